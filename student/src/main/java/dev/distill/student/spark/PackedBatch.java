package dev.distill.student.spark;

import java.io.Serializable;

/**
 * A minibatch as two flat row-major {@code float[]}s: features (rows × F) and packed KD labels
 * (rows × (2C + 1), see {@link dev.distill.student.loss.PackedTargets}). Plain arrays, so Spark measures and
 * caches them correctly (ND4J arrays live off-heap and would be mis-sized).
 */
public record PackedBatch(int rows, float[] features, float[] labels) implements Serializable {
}
