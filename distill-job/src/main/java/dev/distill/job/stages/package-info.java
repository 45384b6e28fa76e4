/**
 * The pipeline's stages, one file each (train-teacher, label, train-student, export, evaluate), behind
 * {@link dev.distill.job.stages.Stage}, and the {@link dev.distill.job.stages.StageRunner} that skips stages
 * whose outputs are up to date ({@link dev.distill.job.stages.StageKey}), names what changed, and writes
 * each stage's provenance record. Shared by the stages: the soft-label checks and joins
 * ({@link dev.distill.job.stages.SoftLabels}) and the training of one network
 * ({@link dev.distill.job.stages.NetworkTraining}, {@link dev.distill.job.stages.TrainingRequest}).
 */
package dev.distill.job.stages;
