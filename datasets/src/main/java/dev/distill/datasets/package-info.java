/**
 * Data sets as Spark {@code Dataset<Row>} with the fixed example schema ({@link dev.distill.datasets.ExampleSchema}),
 * the settings that select them, and the plain-Java file formats (IDX) behind them. Spark-specific reading
 * lives in {@code dev.distill.datasets.spark}.
 */
package dev.distill.datasets;
