/**
 * Students (and the architectures teachers are built from), the knowledge-distillation loss and the
 * training settings. Plain DL4J/ND4J: no Spark here, so the maths is unit-testable without a cluster.
 * The distributed trainer and evaluation live in {@code dev.distill.student.spark}.
 */
package dev.distill.student;
