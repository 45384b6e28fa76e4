/**
 * Teachers: a model that maps a batch of features to logits ({@link dev.distill.teacher.Teacher}), loaded
 * from a DL4J model zip, and the labelling job ({@code dev.distill.teacher.spark}) that runs it inside the
 * executors and writes the soft-label Parquet contract.
 */
package dev.distill.teacher;
