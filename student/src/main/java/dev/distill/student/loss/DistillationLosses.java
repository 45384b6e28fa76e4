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
            "hinton", new Entry(HintonLoss::read, java.util.Set.of("temperature", "alpha"))));

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

    /** Plain cross-entropy on the hard labels, for teachers and hard-label baselines. */
    public static DistillationLoss hardLabels() {
        return new HintonLoss(1, 0);
    }
}
