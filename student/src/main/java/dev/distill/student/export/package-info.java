/**
 * The deployable forms of a trained student: the int8 file for the dependency-free runtime
 * ({@link dev.distill.student.export.Int8Exporter}, from quantisation-aware training or post-training
 * calibration) and the same quantised network in ONNX QDQ form ({@link dev.distill.student.export.OnnxExporter}).
 */
package dev.distill.student.export;
