/**
 * The soft-label contract (schema version 2): one Parquet row per transfer example with {@code id},
 * {@code label} and {@code teacher_logits} (or its top k), and footer key-value metadata naming the teacher,
 * class count, input shape, normalisation and the data set split. The features stay in the data set:
 * readers check the metadata, then join the rows with the split by id.
 */
package dev.distill.datasets.softlabels;
