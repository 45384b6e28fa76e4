package dev.distill.datasets.softlabels;

/**
 * One row of the soft-label contract: the example's id, its hard label (null for unlabeled transfer data) and
 * the teacher's logits. The features stay in the data set; readers join on the id.
 */
public record SoftLabelRecord(long id, Integer label, float[] teacherLogits) {
}
