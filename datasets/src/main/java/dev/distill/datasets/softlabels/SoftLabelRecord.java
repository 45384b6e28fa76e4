package dev.distill.datasets.softlabels;

/** One row of the soft-label contract; {@code label} is null for unlabeled transfer data. */
public record SoftLabelRecord(long id, float[] features, Integer label, float[] teacherLogits) {
}
