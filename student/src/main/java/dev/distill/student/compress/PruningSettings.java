package dev.distill.student.compress;

import dev.distill.settings.SettingsReader;

/**
 * {@code kd.student.pruning}: gradual magnitude pruning (Zhu & Gupta, "To prune, or not to prune", 2017).
 *
 * @param enabled   prune the student's dense and conv weights (a layer opts out with {@code prune = false})
 * @param initial   sparsity s_i at the start step, in [0, 1)
 * @param target    final sparsity s_f, in [initial, 1)
 * @param startStep t0, the minibatch step (per worker) of the first pruning step
 * @param steps     n, the number of pruning steps
 * @param frequency Δt, minibatch steps between pruning steps
 */
public record PruningSettings(boolean enabled, double initial, double target, int startStep, int steps, int frequency)
        implements java.io.Serializable {
    public static final PruningSettings OFF = new PruningSettings(false, 0, 0, 0, 1, 1);

    public static PruningSettings read(SettingsReader student) {
        if (!student.has("pruning")) {
            return OFF;
        }
        SettingsReader p = student.section("pruning");
        boolean enabled = p.bool("enabled");
        double initial = p.numberIn("initial-sparsity", 0, 0.99);
        double target = p.numberIn("final-sparsity", 0, 0.99);
        if (target < initial && p.has("final-sparsity") && p.has("initial-sparsity")) {
            p.problem("final-sparsity", "must be at least initial-sparsity (" + initial + ")");
        }
        int start = p.integer("start-step", 0, Integer.MAX_VALUE);
        int steps = p.integer("steps", 1, 1 << 20);
        int frequency = p.integer("frequency", 1, 1 << 20);
        return new PruningSettings(enabled, initial, target, start, steps, frequency);
    }

    /**
     * Sparsity at minibatch step t: 0 before t0; {@code s_f + (s_i − s_f)(1 − (τ − t0)/(nΔt))³} where τ is the
     * last pruning step at or before t ({@code t0 + kΔt}, k ≤ n); s_f from {@code t0 + nΔt} on.
     */
    public double sparsityAt(long t) {
        if (!enabled || t < startStep) {
            return 0;
        }
        long k = Math.min(steps, (t - startStep) / frequency);
        double progress = (double) k / steps;
        double left = 1 - progress;
        return target + (initial - target) * left * left * left;
    }
}
