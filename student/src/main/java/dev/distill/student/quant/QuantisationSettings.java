package dev.distill.student.quant;

import dev.distill.settings.SettingsReader;

/**
 * {@code kd.student.quantisation}: quantisation-aware training of the student (and of its baseline, so that
 * the two stay comparable).
 *
 * @param enabled     fake-quantise during training; a layer may opt out of weight quantisation with
 *                    {@code quantise = false}
 * @param weightBits  bits of the symmetric per-channel weight quantiser, 2..8
 * @param startStep   the minibatch step (counted per worker) from which weights and activations are
 *                    fake-quantised; activation ranges are tracked from step 0
 * @param emaDecay    decay of the moving average of activation ranges, in [0, 1)
 */
public record QuantisationSettings(boolean enabled, int weightBits, int startStep, double emaDecay) {
    public static final QuantisationSettings OFF = new QuantisationSettings(false, 8, 0, 0.99);

    public static QuantisationSettings read(SettingsReader student) {
        if (!student.has("quantisation")) {
            return OFF;
        }
        SettingsReader q = student.section("quantisation");
        boolean enabled = q.bool("enabled");
        int bits = q.integer("weight-bits", 2, 8);
        int start = q.integer("start-step", 0, Integer.MAX_VALUE);
        double decay = q.numberIn("ema-decay", 0, 0.9999);
        return new QuantisationSettings(enabled, bits, start, decay);
    }
}
