package dev.distill.student.loss;

import dev.distill.settings.SettingsReader;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The distillation losses by their key in {@code kd.student.distillation.loss}. Adding a loss means one
 * {@link DistillationLoss} file that reads its own settings, one line here, and its documented keys in the
 * student module's {@code reference.conf}.
 */
public final class DistillationLosses {
    /** A loss and the keys of {@code kd.student.distillation} it reads (besides {@code loss}). */
    record Entry(Function<SettingsReader, DistillationLoss> read, java.util.Set<String> keys) {
    }

    private static final Map<String, Entry> LOSSES = new TreeMap<>(Map.of(
            "cross-entropy", new Entry(d -> new HintonLoss(1, 0, labelSmoothing(d)), java.util.Set.of("label-smoothing")),
            "hinton", new Entry(HintonLoss::read, java.util.Set.of("temperature", "alpha", "label-smoothing")),
            "dkd", new Entry(DkdLoss::read, java.util.Set.of("temperature", "alpha", "dkd", "label-smoothing")),
            "dist", new Entry(DistLoss::read, java.util.Set.of("temperature", "alpha", "dist", "label-smoothing"))));

    private DistillationLosses() {
    }

    /** The keys of every registered loss, sorted. */
    public static java.util.Set<String> names() {
        return LOSSES.keySet();
    }

    /**
     * Reads {@code loss} and the chosen loss's settings from {@code distillation} (the section
     * {@code kd.student.distillation}); problems are recorded in the reader (an unknown key is one that
     * names the valid keys, and the first loss is returned so that the other settings are still checked).
     */
    public static DistillationLoss read(SettingsReader distillation) {
        String name = distillation.oneOf("loss", LOSSES.keySet().toArray(String[]::new));
        return LOSSES.get(name).read().apply(distillation);
    }

    /** {@code label-smoothing} of {@code kd.student.distillation}: ε in [0, 0.5]. */
    static double labelSmoothing(SettingsReader distillation) {
        return distillation.has("label-smoothing") ? distillation.numberIn("label-smoothing", 0, 0.5) : 0;
    }

    /** True when {@code loss} learns from hard labels alone (no teacher term). */
    public static boolean hardLabelsOnly(DistillationLoss loss) {
        return loss instanceof HintonLoss h && h.alpha() == 0;
    }

    /** Plain cross-entropy on the hard labels, for teachers and hard-label baselines. */
    public static DistillationLoss hardLabels() {
        return new HintonLoss(1, 0);
    }
}
