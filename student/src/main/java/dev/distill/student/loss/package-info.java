/**
 * Distillation losses, picked by {@code kd.student.distillation.loss} from
 * {@link dev.distill.student.loss.DistillationLosses}: each one file with its formula, gradient and source in
 * its Javadoc, implementing {@link dev.distill.student.loss.DistillationLoss} on flat arrays of
 * {@link dev.distill.student.loss.PackedTargets} rows. Plain ND4J, tested without Spark.
 */
package dev.distill.student.loss;
