/** Spark readers that turn IDX, CSV and Parquet sources into the example schema, normalised and split. */
package dev.distill.datasets.spark;
