package dev.distill.student;

import dev.distill.runtime.DenseLayer;
import dev.distill.runtime.Int8Model;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Converts a trained network of dense layers (hidden ReLU or identity, identity output) into the runtime's
 * {@link Int8Model}:
 * <ul>
 *   <li>weights: symmetric int8 per output channel j, s_j = max_i |W[i][j]| / 127, q = rint(W / s_j) in
 *       [−127, 127];</li>
 *   <li>activations: asymmetric uint8 over a range [lo, hi] that contains 0, scale = (hi − lo) / 255,
 *       zero point = rint(−lo · 255 / (hi − lo)) — the input range and each hidden layer's output range;</li>
 *   <li>biases: int32 in units of input scale × s_j, q = rint(b_j / (s_in · s_j)).</li>
 * </ul>
 * Ranges come from {@link #calibrate} (min/max over sample inputs, post-training quantisation); a
 * quantisation-aware student will supply its tracked ranges instead.
 */
public final class Int8Exporter {
    /** A real-valued range [lo, hi] containing 0. */
    public record Range(float lo, float hi) {
        public Range {
            lo = Math.min(lo, 0f);
            hi = Math.max(hi, 0f);
            if (hi - lo < 1e-8f) {
                hi = lo + 1e-8f;
            }
        }

        float scale() {
            return (hi - lo) / 255f;
        }

        /** rint(−lo · 255 / (hi − lo)), computed in double so that a symmetric range gets 128 exactly. */
        int zeroPoint() {
            return (int) Math.max(0, Math.min(255, Math.rint(-(double) lo * 255.0 / ((double) hi - lo))));
        }
    }

    private Int8Exporter() {
    }

    /** The input range and each hidden layer's output range over {@code samples} (rows × features). */
    public static List<Range> calibrate(MultiLayerNetwork net, float[][] samples) {
        List<INDArray> acts = net.feedForward(Nd4j.create(samples), false);
        List<Range> ranges = new ArrayList<>();
        for (int l = 0; l < acts.size() - 1; l++) {
            INDArray a = acts.get(l);
            ranges.add(new Range(a.minNumber().floatValue(), a.maxNumber().floatValue()));
        }
        return ranges;
    }

    /** Quantises {@code net}; {@code ranges} holds the input range, then one per hidden layer's output. */
    public static Int8Model export(MultiLayerNetwork net, List<Range> ranges) {
        int layers = net.getnLayers();
        if (ranges.size() != layers) {
            throw new IllegalArgumentException("need " + layers + " ranges (input and each hidden layer), got "
                    + ranges.size());
        }
        List<DenseLayer> out = new ArrayList<>();
        int inputLength = -1;
        for (int l = 0; l < layers; l++) {
            Layer layer = net.getLayer(l);
            if (!(layer.conf().getLayer() instanceof FeedForwardLayer ff)
                    || !(layer instanceof org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer
                    || layer instanceof org.deeplearning4j.nn.layers.OutputLayer)) {
                throw new IllegalArgumentException("layer " + l + " is a " + layer.getClass().getSimpleName()
                        + "; the int8 runtime supports dense layers only so far");
            }
            var activationFn = ((org.deeplearning4j.nn.conf.layers.BaseLayer) ff).getActivationFn();
            DenseLayer.Activation act;
            if (activationFn instanceof ActivationReLU) {
                act = DenseLayer.Activation.RELU;
            } else if (activationFn instanceof ActivationIdentity) {
                act = DenseLayer.Activation.IDENTITY;
            } else {
                throw new IllegalArgumentException("layer " + l + " uses " + activationFn
                        + "; the int8 runtime supports relu and identity so far");
            }
            int in = (int) ff.getNIn();
            int n = (int) ff.getNOut();
            if (l == 0) {
                inputLength = in;
            }
            float[] w = FlatArrays.of(layer.getParam(DefaultParamInitializer.WEIGHT_KEY)); // row-major [in, out]
            if (w.length != in * n) {
                throw new IllegalStateException("layer " + l + " has " + w.length + " weights; expected " + in * n);
            }
            float[] b = FlatArrays.of(layer.getParam(DefaultParamInitializer.BIAS_KEY));
            float inScale = ranges.get(l).scale();
            float[] scales = new float[n];
            byte[] q = new byte[in * n];
            int[] bias = new int[n];
            for (int j = 0; j < n; j++) {
                float max = 0;
                for (int i = 0; i < in; i++) {
                    max = Math.max(max, Math.abs(w[i * n + j]));
                }
                scales[j] = max > 0 ? max / 127f : 1f;
                for (int i = 0; i < in; i++) {
                    q[j * in + i] = (byte) Math.max(-127, Math.min(127, Math.rint(w[i * n + j] / scales[j])));
                }
                bias[j] = (int) Math.max(-(1 << 30), Math.min(1 << 30, Math.rint(b[j] / (inScale * scales[j]))));
            }
            boolean last = l == layers - 1;
            Range next = last ? null : ranges.get(l + 1);
            out.add(new DenseLayer(in, n, act, scales, q, bias, last ? 0f : next.scale(), last ? 0 : next.zeroPoint()));
        }
        return new Int8Model(inputLength, ranges.get(0).scale(), ranges.get(0).zeroPoint(), out);
    }
}
