/** Labelling on Spark: batched teacher inference inside the executors, writing the soft-label contract. */
package dev.distill.teacher.spark;
