/**
 * The entry point for {@code spark-submit} and {@code bin/distill}: parsing the command line, loading and
 * validating the job file, wiring the stages (train-teacher, label, train-student, evaluate, export, run),
 * provenance and the report.
 */
package dev.distill.job;
