/**
 * DL4J layers of our own: the two ends of a residual block inside a {@link
 * org.deeplearning4j.nn.multilayer.MultiLayerNetwork} ({@link dev.distill.student.layers.ResidualStart}, {@link
 * dev.distill.student.layers.ResidualAdd}).
 */
package dev.distill.student.layers;
