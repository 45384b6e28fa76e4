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
        List<NetworkSpec.Element> elements = NetworkSpec.elements(a);
        if (q.enabled() && elements.size() == arch.layers().size()) {
            for (int i = 0; i < elements.size(); i++) {
                NetworkSpec.Element e = elements.get(i);
                SettingsReader layer = a.over(e.config(), e.key());
                String type = e.isLayer() && e.config().hasPath("type") ? e.config().getString("type") : "";
                if (!type.isEmpty() && !NetworkSpec.QAT_LAYERS.contains(type)) {
                    layer.problem("type", "a " + type + " layer cannot be trained with kd.student.quantisation.enabled"
                            + " = true; quantisation-aware training takes " + String.join(", ", new java.util.TreeSet<>(NetworkSpec.QAT_LAYERS))
                            + " layers");
                }
                boolean described = e.isLayer() || LayerSpec.RESIDUAL_ADD.equals(e.kind());   // a block's key once
                if (described && e.config().hasPath("activation")
                        && !NetworkSpec.QAT_ACTIVATIONS.contains(e.config().getString("activation").toLowerCase(java.util.Locale.ROOT))) {
                    layer.problem("activation", "quantisation-aware training (kd.student.quantisation.enabled = true)"
                            + " takes relu or identity, the activations the int8 runtime computes");
                }
                if ("batch-norm".equals(type)) {
                    checkFoldable(layer, arch, i);
                }
            }
        }
        TrainingSettings training = TrainingSettings.read(s.section("training"));
        DistillationLoss loss = DistillationLosses.read(s.section("distillation"));
        boolean baseline = s.bool("baseline");
        String initFrom = a.has("init-from") ? a.string("init-from").trim() : "";
        if (initFrom.isEmpty() && arch.ranksUnresolved()) {
            for (int i = 0; i < arch.layers().size() && i < elements.size(); i++) {
                if (arch.layers().get(i).rankByEnergy()) {
                    a.over(elements.get(i).config(), elements.get(i).key()).problem("rank",
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
    private static void checkFoldable(SettingsReader layer, NetworkSpec arch, int i) {
        LayerSpec before = i == 0 ? null : arch.layers().get(i - 1);
        String type = before == null ? null : before.type();
        boolean weighted = "dense".equals(type) || "conv".equals(type) || "depthwise".equals(type);
        String where = before == null ? "; this one is the first layer"
                : LayerSpec.RESIDUAL_START.equals(type) ? "; this one is the first layer of its residual block"
                : LayerSpec.RESIDUAL_ADD.equals(type) ? " (" + arch.path(i - 1) + ", a residual block,"
                + " comes right before it)"
                : " (" + arch.path(i - 1) + " is a " + type + ")";
        if (!weighted) {
            layer.problem("type", "a batch-norm is folded into the layer right before it for the int8 file, which must"
                    + " be a dense, conv or depthwise layer" + where);
        } else if (!"identity".equals(before.activation())) {
            String activation = before.activation();
            String move = NetworkSpec.QAT_ACTIVATIONS.contains(activation) ? activation : "relu";
            layer.problem("type", "a batch-norm is folded into " + arch.path(i - 1) + " for the int8"
                    + " file, so that " + type + " layer needs activation = identity (it has " + activation + "); put the"
                    + " activation on the batch-norm: { type = batch-norm, activation = " + move + " }");
        }
    }
}
