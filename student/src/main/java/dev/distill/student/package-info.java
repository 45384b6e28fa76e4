/**
 * Students (and the architectures teachers are built from), the training settings and the hooks that
 * compression methods put around each training step. Plain DL4J/ND4J: no Spark here, so the maths is
 * unit-testable without a cluster. Losses are in {@code loss}, exporters in {@code export}, compression in
 * {@code quant} and {@code compress}; the distributed trainer and evaluation in {@code spark}.
 */
package dev.distill.student;
