/**
 * Quantisation-aware training: the quantisers shared by training and export ({@link
 * dev.distill.student.quant.Quantisers}), the fake-quantising activation that tracks activation ranges
 * ({@link dev.distill.student.quant.QuantisedActivation}), and the per-step hooks that fake-quantise
 * weights with the straight-through estimator inside the distributed trainer ({@link
 * dev.distill.student.quant.Qat}).
 */
package dev.distill.student.quant;
