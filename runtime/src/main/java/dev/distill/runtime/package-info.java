/**
 * The deployable model: a versioned int8 file ({@link dev.distill.runtime.ModelFile}) and integer inference
 * over it ({@link dev.distill.runtime.Int8Model}). Depends on nothing but {@code java.base}, so the jar can
 * ship to a device on its own; where the JVM also has the JDK's incubating Vector API ({@code
 * jdk.incubator.vector}), a faster SIMD inference of the same results runs.
 */
package dev.distill.runtime;
