package dev.distill.student.compress;

import dev.distill.student.FlatArrays;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingHooks;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Gradual magnitude pruning inside the distributed trainer. At the start of every round each worker raises
 * every pruned layer's sparsity to {@link PruningSettings#sparsityAt} the round's first step, zeroing that
 * share of the layer's weights with the smallest magnitudes, and re-applies the masks after every step
 * (so neither the updater's momentum nor quantisation-aware training revives a pruned weight). The masks
 * are computed from the round's averaged parameters, which every worker holds, so all workers prune the
 * same weights and the average keeps them at zero. Sparsity therefore rises at round boundaries: a
 * pruning step between two boundaries takes effect at the next one.
 */
public final class Pruning implements TrainingHooks {
    private final PruningSettings settings;
    /** DL4J indices of the pruned weight layers. */
    private final int[] layers;
    private transient INDArray[] masks;

    public Pruning(PruningSettings settings, int[] layers) {
        this.settings = settings;
        this.layers = layers.clone();
    }

    /** The hooks for {@code spec}, or null when it is not pruned. */
    public static Pruning of(NetworkSpec spec, PruningSettings settings) {
        if (!settings.enabled()) {
            return null;
        }
        return new Pruning(settings, spec.weightLayers(l -> l.prune() == null || l.prune()));
    }

    /** What this does, deterministically (part of the checkpoint fingerprint). */
    @Override
    public String toString() {
        return "pruning(" + settings + ", layers=" + java.util.Arrays.toString(layers) + ")";
    }

    @Override
    public void startRound(MultiLayerNetwork net, long step) {
        double s = settings.sparsityAt(step);
        masks = null;
        if (s <= 0) {
            return;
        }
        masks = new INDArray[layers.length];
        for (int k = 0; k < layers.length; k++) {
            INDArray w = net.getLayer(layers[k]).getParam(DefaultParamInitializer.WEIGHT_KEY);
            float[] mask = mask(FlatArrays.of(w), s);
            masks[k] = Nd4j.create(mask, w.shape(), 'c');
            w.muli(masks[k]);
        }
    }

    /**
     * 1 for the weights that stay, 0 for the {@code floor(sparsity · n)} of smallest magnitude (ties broken by
     * position, so the count is exact).
     */
    static float[] mask(float[] w, double sparsity) {
        int n = w.length;
        int prune = (int) Math.floor(sparsity * n);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> {
            int c = Float.compare(Math.abs(w[a]), Math.abs(w[b]));
            return c != 0 ? c : Integer.compare(a, b);
        });
        float[] mask = new float[n];
        java.util.Arrays.fill(mask, 1f);
        for (int i = 0; i < prune; i++) {
            mask[order[i]] = 0f;
        }
        return mask;
    }

    @Override
    public void beforeStep(MultiLayerNetwork net, long step) {
    }

    @Override
    public void afterStep(MultiLayerNetwork net, long step) {
        if (masks == null) {
            return;
        }
        for (int k = 0; k < layers.length; k++) {
            net.getLayer(layers[k]).getParam(DefaultParamInitializer.WEIGHT_KEY).muli(masks[k]);
        }
    }

    @Override
    public float[] state(MultiLayerNetwork net) {
        return new float[0];
    }

    @Override
    public void setState(MultiLayerNetwork net, float[] state) {
    }

    @Override
    public void sync(MultiLayerNetwork net, long step) {
    }

    /** Per weight layer of {@code net}: its weights, how many are zero, and the share. */
    public static List<LayerSparsity> sparsityByLayer(MultiLayerNetwork net) {
        List<LayerSparsity> out = new ArrayList<>();
        for (int l = 0; l < net.getnLayers(); l++) {
            if (!net.getLayer(l).paramTable().containsKey(DefaultParamInitializer.WEIGHT_KEY)) {
                continue;
            }
            float[] w = FlatArrays.of(net.getLayer(l).getParam(DefaultParamInitializer.WEIGHT_KEY));
            long zeros = 0;
            for (float v : w) {
                zeros += v == 0f ? 1 : 0;
            }
            out.add(new LayerSparsity(l, net.getLayer(l).getClass().getSimpleName(), w.length, zeros,
                    w.length == 0 ? 0.0 : (double) zeros / w.length));
        }
        return out;
    }

    /** Zero weights of one weight layer: its index, DL4J type, weight count, zeros and their share. */
    public record LayerSparsity(int layer, String type, long weights, long zeros, double sparsity) {
    }
}
