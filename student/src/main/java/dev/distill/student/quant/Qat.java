package dev.distill.student.quant;

import dev.distill.student.layers.BatchNormKernel;
import dev.distill.student.FlatArrays;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingHooks;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Quantisation-aware training inside the distributed trainer.
 *
 * <p>Weights, with the straight-through estimator: before a step the layer's float ("shadow") weights W
 * are replaced by their fake-quantised values Q(W); the step computes gradients at Q(W) and its updater
 * moves them to Q(W) − Δ; after the step the float weights become W − Δ (that is, W + (after − Q(W))).
 * The update computed at the quantised weights is thus applied to the float weights, for any updater.
 *
 * <p>Activations: the {@link QuantisedActivation}s of the network (the input quantiser and every hidden
 * layer) are switched on from {@code start-step}; their ranges are the state averaged across workers.
 */
public final class Qat implements TrainingHooks {
    private final int bits;
    private final long startStep;
    /** DL4J indices of the layers whose weights are fake-quantised. */
    private final int[] weightLayers;
    private transient float[][] shadow;
    private transient float[][] fake;

    public Qat(int bits, long startStep, int[] weightLayers) {
        this.bits = bits;
        this.startStep = startStep;
        this.weightLayers = weightLayers.clone();
    }

    /** The hooks for {@code spec}, or null when it is not quantisation-aware. */
    public static Qat of(NetworkSpec spec) {
        if (!spec.quantised()) {
            return null;
        }
        return new Qat(spec.quantisation().weightBits(), spec.quantisation().startStep(),
                spec.weightLayers(l -> l.quantise() == null || l.quantise()));
    }

    public int bits() {
        return bits;
    }

    /** What this does, deterministically (part of the checkpoint fingerprint). */
    @Override
    public String toString() {
        return "qat(bits=" + bits + ", start=" + startStep + ", layers=" + java.util.Arrays.toString(weightLayers) + ")";
    }

    @Override
    public void beforeStep(MultiLayerNetwork net, long step) {
        boolean on = step >= startStep;
        setActive(net, on);
        if (!on) {
            return;
        }
        if (shadow == null) {
            shadow = new float[weightLayers.length][];
            fake = new float[weightLayers.length][];
        }
        for (int k = 0; k < weightLayers.length; k++) {
            INDArray w = net.getLayer(weightLayers[k]).getParam(DefaultParamInitializer.WEIGHT_KEY);
            shadow[k] = FlatArrays.of(w);
            fake[k] = fakeWeights(net.getLayer(weightLayers[k]), shadow[k], bits);
            w.assign(Nd4j.create(fake[k], w.shape(), 'c'));
        }
    }

    @Override
    public void afterStep(MultiLayerNetwork net, long step) {
        if (step < startStep) {
            return;
        }
        for (int k = 0; k < weightLayers.length; k++) {
            INDArray w = net.getLayer(weightLayers[k]).getParam(DefaultParamInitializer.WEIGHT_KEY);
            float[] after = FlatArrays.of(w);
            for (int i = 0; i < after.length; i++) {
                after[i] = shadow[k][i] + (after[i] - fake[k][i]);
            }
            w.assign(Nd4j.create(after, w.shape(), 'c'));
        }
    }

    /** Per quantiser: lo·seen, hi·seen, seen (1 or 0), so that averaging counts only workers that saw data. */
    @Override
    public float[] state(MultiLayerNetwork net) {
        List<QuantisedActivation> qs = quantisers(net);
        float[] s = new float[3 * qs.size()];
        for (int i = 0; i < qs.size(); i++) {
            QuantisedActivation q = qs.get(i);
            float seen = q.hasSeenData() ? 1f : 0f;
            s[3 * i] = q.lo() * seen;
            s[3 * i + 1] = q.hi() * seen;
            s[3 * i + 2] = seen;
        }
        return s;
    }

    @Override
    public void setState(MultiLayerNetwork net, float[] state) {
        List<QuantisedActivation> qs = quantisers(net);
        if (state.length != 3 * qs.size()) {
            throw new IllegalArgumentException("quantiser state of " + state.length + " values for " + qs.size()
                    + " quantisers");
        }
        for (int i = 0; i < qs.size(); i++) {
            float seen = state[3 * i + 2];
            if (seen > 0) {
                qs.get(i).setRange(state[3 * i] / seen, state[3 * i + 1] / seen, true);
            } else {
                qs.get(i).setRange(0, 0, false);
            }
        }
    }

    @Override
    public void sync(MultiLayerNetwork net, long step) {
        setActive(net, step >= startStep);
    }

    /** A copy of {@code net} as the int8 model computes it: weights fake-quantised, every quantiser on. */
    public MultiLayerNetwork fakeQuantised(MultiLayerNetwork net) {
        MultiLayerNetwork copy = copy(net);
        for (int layer : weightLayers) {
            INDArray w = copy.getLayer(layer).getParam(DefaultParamInitializer.WEIGHT_KEY);
            w.assign(Nd4j.create(fakeWeights(copy.getLayer(layer), FlatArrays.of(w), bits), w.shape(), 'c'));
        }
        setActive(copy, true);
        return copy;
    }

    /** A copy of {@code net} with its float weights and no activation quantisation. */
    public static MultiLayerNetwork floatCopy(MultiLayerNetwork net) {
        MultiLayerNetwork copy = copy(net);
        setActive(copy, false);
        return copy;
    }

    /**
     * A deep copy of {@code net}'s configuration and parameters. ({@code MultiLayerNetwork.clone()} shares
     * the activation function objects, and so the quantisers' ranges and switches, with the original.)
     */
    public static MultiLayerNetwork copy(MultiLayerNetwork net) {
        MultiLayerNetwork copy = new MultiLayerNetwork(
                MultiLayerConfiguration.fromJson(net.getLayerWiseConfigurations().toJson()));
        copy.init(net.params().dup(), false);
        BatchNormKernel.install(copy);
        return copy;
    }

    /**
     * The fake-quantised weights of {@code layer}: per column for dense layers, per output filter for
     * convolutions, per channel for depthwise convolutions (as {@code Int8Exporter} quantises them).
     */
    static float[] fakeWeights(Layer layer, float[] w, int bits) {
        if (layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D) {
            // [kernel h, kernel w, channels, 1]: channel c's weights lie every `channels` values apart.
            int channels = (int) layer.getParam(DefaultParamInitializer.WEIGHT_KEY).size(2);
            int taps = w.length / channels;
            float[] byChannel = new float[w.length];
            for (int t = 0; t < taps; t++) {
                for (int c = 0; c < channels; c++) {
                    byChannel[c * taps + t] = w[t * channels + c];
                }
            }
            float[] q = Quantisers.fakePerBlock(byChannel, channels, bits);
            float[] out = new float[w.length];
            for (int t = 0; t < taps; t++) {
                for (int c = 0; c < channels; c++) {
                    out[t * channels + c] = q[c * taps + t];
                }
            }
            return out;
        }
        if (layer.conf().getLayer() instanceof ConvolutionLayer c) {
            return Quantisers.fakePerBlock(w, (int) c.getNOut(), bits);
        }
        var ff = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) layer.conf().getLayer();
        return Quantisers.fakePerColumn(w, (int) ff.getNIn(), (int) ff.getNOut(), bits);
    }

    /** The network's activation quantisers in layer order (the input quantiser first). */
    public static List<QuantisedActivation> quantisers(MultiLayerNetwork net) {
        List<QuantisedActivation> out = new ArrayList<>();
        for (int l = 0; l < net.getnLayers(); l++) {
            if (activationOf(net.getLayer(l)) instanceof QuantisedActivation q) {
                out.add(q);
            }
        }
        return out;
    }

    /** True when {@code net} was built for quantisation-aware training. */
    public static boolean isQuantised(MultiLayerNetwork net) {
        return !quantisers(net).isEmpty();
    }

    private static IActivation activationOf(Layer layer) {
        return layer.conf().getLayer() instanceof BaseLayer b ? b.getActivationFn()
                : layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer a ? a.getActivationFn()
                : layer.conf().getLayer() instanceof dev.distill.student.layers.ResidualAdd r ? r.getActivationFn()
                : null;
    }

    private static void setActive(MultiLayerNetwork net, boolean on) {
        for (QuantisedActivation q : quantisers(net)) {
            q.setActive(on);
        }
    }
}
