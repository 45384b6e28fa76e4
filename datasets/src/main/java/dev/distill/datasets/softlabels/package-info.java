/**
 * The soft-label contract (schema version 1): one Parquet row per transfer example with {@code id},
 * {@code features}, {@code label} and {@code teacher_logits}, and footer key-value metadata naming the
 * teacher, class count, input shape and normalisation. Readers check the metadata before any training.
 */
package dev.distill.datasets.softlabels;
