package dev.distill.student;

import dev.distill.settings.SettingsReader;
import dev.distill.student.compress.PruningSettings;
import dev.distill.student.loss.DistillationLoss;
import dev.distill.student.loss.DistillationLosses;
import dev.distill.student.quant.QuantisationSettings;

import java.util.List;

/**
 * Settings of {@code kd.student}: the architecture, how it is trained, the distillation loss (picked by
 * {@code kd.student.distillation.loss}, with its own settings) and whether the same student is also trained on hard labels alone as the
 * baseline every report shows beside the distilled one; compression: quantisation-aware training (in the
 * architecture), low-rank layers initialised from {@code initFrom} (a trained model zip, or empty), and
 * gradual pruning.
 */
public record StudentSettings(NetworkSpec architecture, TrainingSettings training, DistillationLoss loss,
                              boolean baseline, String initFrom, PruningSettings pruning) {

    public static StudentSettings read(SettingsReader kd, int[] inputShape, int numClasses) {
        SettingsReader s = kd.section("student");
        QuantisationSettings q = QuantisationSettings.read(s);
        SettingsReader a = s.section("architecture");
        NetworkSpec arch = NetworkSpec.read(a, inputShape, numClasses).withQuantisation(q);
        if (q.enabled() && a.has("layers")) {
            List<? extends com.typesafe.config.Config> raw = a.config().getConfigList("layers");
            for (int i = 0; i < raw.size(); i++) {
                SettingsReader layer = a.over(raw.get(i), a.fullKey("layers") + "[" + i + "]");
                String type = raw.get(i).hasPath("type") ? raw.get(i).getString("type") : "";
                if (!type.isEmpty() && !"output".equals(type) && !NetworkSpec.QAT_LAYERS.contains(type)) {
                    layer.problem("type", "a " + type + " layer cannot be trained with kd.student.quantisation.enabled"
                            + " = true; quantisation-aware training takes " + String.join(", ", new java.util.TreeSet<>(NetworkSpec.QAT_LAYERS))
                            + " layers");
                }
                if (raw.get(i).hasPath("activation")
                        && !NetworkSpec.QAT_ACTIVATIONS.contains(raw.get(i).getString("activation").toLowerCase(java.util.Locale.ROOT))) {
                    layer.problem("activation", "quantisation-aware training (kd.student.quantisation.enabled = true)"
                            + " takes relu or identity, the activations the int8 runtime computes");
                }
                if ("batch-norm".equals(type)) {
                    checkFoldable(layer, raw, i);
                }
            }
        }
        TrainingSettings training = TrainingSettings.read(s.section("training"));
        DistillationLoss loss = DistillationLosses.read(s.section("distillation"));
        boolean baseline = s.bool("baseline");
        String initFrom = a.has("init-from") ? a.string("init-from").trim() : "";
        if (initFrom.isEmpty() && arch.ranksUnresolved()) {
            for (int i = 0; i < arch.layers().size(); i++) {
                if (arch.layers().get(i).rankByEnergy()) {
                    a.over(a.config().getConfigList("layers").get(i), a.fullKey("layers") + "[" + i + "]").problem("rank",
                            "a rank below 1 is the share of the energy to keep, which needs the singular values of a"
                                    + " trained layer: set kd.student.architecture.init-from to a model zip, or give"
                                    + " a whole number of components");
                }
            }
        }
        PruningSettings pruning = PruningSettings.read(s);
        return new StudentSettings(arch, training, loss, baseline, initFrom, pruning);
    }

    /**
     * Under quantisation-aware training a batch norm is folded into the layer right before it (its output is
     * the one quantised): that layer must be a dense, conv or depthwise layer with activation = identity.
     */
    private static void checkFoldable(SettingsReader layer, List<? extends com.typesafe.config.Config> raw, int i) {
        String before = i == 0 ? null : raw.get(i - 1).hasPath("type") ? raw.get(i - 1).getString("type") : "";
        boolean weighted = "dense".equals(before) || "conv".equals(before) || "depthwise".equals(before);
        String activation = i == 0 || !raw.get(i - 1).hasPath("activation") ? ("dense".equals(before)
                || "conv".equals(before) || "depthwise".equals(before) ? "relu" : "identity")
                : raw.get(i - 1).getString("activation").toLowerCase(java.util.Locale.ROOT);
        if (!weighted) {
            layer.problem("type", "a batch-norm is folded into the layer right before it for the int8 file, which must"
                    + " be a dense, conv or depthwise layer" + (before == null ? "; this one is the first layer"
                    : " (layers[" + (i - 1) + "] is a " + before + ")"));
        } else if (!"identity".equals(activation)) {
            String move = NetworkSpec.QAT_ACTIVATIONS.contains(activation) ? activation : "relu";
            layer.problem("type", "a batch-norm is folded into layers[" + (i - 1) + "] for the int8 file, so that " + before
                    + " layer needs activation = identity (it has " + activation + "); put the activation on the"
                    + " batch-norm: { type = batch-norm, activation = " + move + " }");
        }
    }
}
