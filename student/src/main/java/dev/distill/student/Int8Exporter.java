package dev.distill.student;

import dev.distill.student.quant.Qat;
import dev.distill.student.quant.QuantisedActivation;
import dev.distill.student.quant.Quantisers;
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
 * {@link Int8Model}, with the quantisers of {@link Quantisers}: symmetric per-output-channel weights,
 * asymmetric uint8 activations (the input and each hidden layer's output), and int32 biases in units of
 * input scale × weight scale, {@code q = rint(b_j / (s_in · s_j))}.
 *
 * <p>Activation ranges come from training when the network was trained quantisation-aware ({@link
 * #exportQuantised}: its tracked ranges and the weight bits it trained with, so the int8 model computes what
 * its fake-quantised forward pass computed), or from {@link #calibrate} (min/max over sample inputs,
 * post-training quantisation).
 */
public final class Int8Exporter {
    private Int8Exporter() {
    }

    /** The input range and each hidden layer's output range over {@code samples} (rows × features). */
    public static List<Quantisers.Range> calibrate(MultiLayerNetwork net, float[][] samples) {
        List<INDArray> acts = net.feedForward(Nd4j.create(samples), false);
        List<Quantisers.Range> ranges = new ArrayList<>();
        for (int l = 0; l < acts.size() - 1; l++) {
            INDArray a = acts.get(l);
            ranges.add(new Quantisers.Range(a.minNumber().floatValue(), a.maxNumber().floatValue()));
        }
        return ranges;
    }

    /** Post-training quantisation with 8-bit weights; {@code ranges} holds the input range, then one per hidden layer. */
    public static Int8Model export(MultiLayerNetwork net, List<Quantisers.Range> ranges) {
        return export(net, ranges, 8);
    }

    /** A network trained with {@link Qat}: its tracked ranges (input quantiser first) and weight bits. */
    public static Int8Model exportQuantised(MultiLayerNetwork net, int weightBits) {
        List<QuantisedActivation> qs = Qat.quantisers(net);
        List<Quantisers.Range> ranges = new ArrayList<>();
        for (QuantisedActivation q : qs) {
            if (!q.hasSeenData()) {
                throw new IllegalArgumentException("an activation quantiser of the network has no range yet"
                        + " (trained for no steps?)");
            }
            ranges.add(q.range());
        }
        return export(net, ranges, weightBits);
    }

    /** Quantises {@code net} with {@code weightBits}-bit weights over the given activation ranges. */
    public static Int8Model export(MultiLayerNetwork net, List<Quantisers.Range> ranges, int weightBits) {
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < net.getnLayers(); l++) {
            Layer layer = net.getLayer(l);
            if (layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer) {
                if (l != 0 || !(((org.deeplearning4j.nn.conf.layers.ActivationLayer) layer.conf().getLayer())
                        .getActivationFn() instanceof QuantisedActivation)) {
                    throw new IllegalArgumentException("layer " + l + " is an activation layer; the int8 runtime"
                            + " supports dense layers only so far");
                }
                continue; // the input quantiser: its range is ranges.get(0)
            }
            layers.add(layer);
        }
        if (ranges.size() != layers.size()) {
            throw new IllegalArgumentException("need " + layers.size() + " ranges (input and each hidden layer), got "
                    + ranges.size());
        }
        List<DenseLayer> out = new ArrayList<>();
        int inputLength = -1;
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            if (!(layer.conf().getLayer() instanceof FeedForwardLayer ff)
                    || !(layer instanceof org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer
                    || layer instanceof org.deeplearning4j.nn.layers.OutputLayer)) {
                throw new IllegalArgumentException("layer " + l + " is a " + layer.getClass().getSimpleName()
                        + "; the int8 runtime supports dense layers only so far");
            }
            var activationFn = ((org.deeplearning4j.nn.conf.layers.BaseLayer) ff).getActivationFn();
            DenseLayer.Activation act;
            if (activationFn instanceof ActivationReLU || activationFn instanceof QuantisedActivation q && q.isRelu()) {
                act = DenseLayer.Activation.RELU;
            } else if (activationFn instanceof ActivationIdentity || activationFn instanceof QuantisedActivation) {
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
            // The U factor of a low-rank layer has no bias.
            float[] b = layer.paramTable().containsKey(DefaultParamInitializer.BIAS_KEY)
                    ? FlatArrays.of(layer.getParam(DefaultParamInitializer.BIAS_KEY)) : new float[n];
            float inScale = ranges.get(l).scale();
            Quantisers.Weights q = Quantisers.perColumn(w, in, n, weightBits);
            int[] bias = new int[n];
            for (int j = 0; j < n; j++) {
                bias[j] = (int) Math.max(-(1 << 30), Math.min(1 << 30, Math.rint(b[j] / (inScale * q.scales()[j]))));
            }
            boolean last = l == layers.size() - 1;
            Quantisers.Range next = last ? null : ranges.get(l + 1);
            out.add(new DenseLayer(in, n, act, q.scales(), q.codes(), bias, last ? 0f : next.scale(),
                    last ? 0 : next.zeroPoint()));
        }
        return new Int8Model(inputLength, ranges.get(0).scale(), ranges.get(0).zeroPoint(), out);
    }
}
