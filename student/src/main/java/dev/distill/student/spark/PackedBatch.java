package dev.distill.student.spark;

import java.io.Serializable;

/**
 * A minibatch as flat row-major arrays: features (rows × F), packed KD labels (rows × (2C + 1), see
 * {@link dev.distill.student.loss.PackedTargets}) and the rows' ids (which seed their augmented views). Plain
 * arrays, so Spark measures and caches them correctly (ND4J arrays live off-heap and would be mis-sized).
 *
 * <p>With stored views ({@code views > 0}, from soft labels labelled with {@code kd.soft-labels.views}), each row
 * also carries its V views: {@code viewBoxes} (rows × V × 5: x, y, width, height, flip of
 * {@link dev.distill.datasets.augment.View}) and the teacher's logits on each ({@code viewLogits}, rows × V × C);
 * the trainer picks one view per row and epoch. Otherwise both are null.
 *
 * <p>Views stored as top-k ({@code viewTopK} = k > 0) stay compact: {@code viewLogits} holds each view's k
 * largest logits (rows × V × k), {@code viewTopIndex} their classes and {@code viewLogSumExp} each view's
 * logsumexp (rows × V); the trainer rebuilds the C logits of the one view it picks
 * ({@link dev.distill.datasets.softlabels.TopK#expand}). So a cached minibatch holds k + 1 numbers per view
 * rather than C.
 */
public record PackedBatch(int rows, float[] features, float[] labels, long[] ids, int views, int[] viewBoxes,
                          float[] viewLogits, int viewTopK, int[] viewTopIndex, float[] viewLogSumExp)
        implements Serializable {

    /** A minibatch without stored views. */
    public PackedBatch(int rows, float[] features, float[] labels, long[] ids) {
        this(rows, features, labels, ids, 0, null, null);
    }

    /** A minibatch with stored views of full logits (or none, {@code views = 0}). */
    public PackedBatch(int rows, float[] features, float[] labels, long[] ids, int views, int[] viewBoxes,
                       float[] viewLogits) {
        this(rows, features, labels, ids, views, viewBoxes, viewLogits, 0, null, null);
    }
}
