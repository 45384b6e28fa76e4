package dev.distill.datasets.softlabels;

/**
 * One row of the soft-label contract: the example's id, its hard label (null for unlabeled transfer data) and
 * the teacher's logits on the example itself. The features stay in the data set; readers join on the id.
 *
 * <p>With stored views ({@code kd.soft-labels.views} = V > 1) also the V views, each as the five numbers of
 * {@code dev.distill.datasets.augment.View} ({@code viewBoxes}, V × 5, view 0 the image itself) and the
 * teacher's logits on it ({@code viewLogits}, V × C); both null otherwise.
 */
public record SoftLabelRecord(long id, Integer label, float[] teacherLogits, int[] viewBoxes, float[] viewLogits) {

    /** A row without stored views. */
    public SoftLabelRecord(long id, Integer label, float[] teacherLogits) {
        this(id, label, teacherLogits, null, null);
    }
}
