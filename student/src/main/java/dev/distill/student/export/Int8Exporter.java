package dev.distill.student.export;

import dev.distill.student.FlatArrays;
import dev.distill.student.quant.Qat;
import dev.distill.student.quant.QuantisedActivation;
import dev.distill.student.quant.Quantisers;
import dev.distill.runtime.ConvLayer;
import dev.distill.runtime.DenseLayer;
import dev.distill.runtime.Int8Model;
import dev.distill.runtime.MaxPoolLayer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
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
 * Converts a trained network of dense, convolution and max-pooling layers (ReLU or identity, identity
 * output) into the runtime's {@link Int8Model}, with the quantisers of {@link Quantisers}: symmetric
 * per-output-channel weights, asymmetric uint8 activations (the input and each hidden dense or convolution
 * layer's output), and int32 biases in units of input scale × weight scale, {@code q = rint(b_j / (s_in · s_j))}.
 *
 * <p>Activation ranges come from training when the network was trained quantisation-aware ({@link
 * #exportQuantised}: its tracked ranges and the weight bits it trained with, so the int8 model computes what
 * its fake-quantised forward pass computed), or from {@link #calibrate} (min/max over sample inputs,
 * post-training quantisation).
 */
public final class Int8Exporter {
    private Int8Exporter() {
    }

    /**
     * Post-training calibration: the input range and the output range of every dense and convolution layer
     * but the last, over {@code samples} (rows × features), in layer order.
     */
    public static List<Quantisers.Range> calibrate(MultiLayerNetwork net, float[][] samples) {
        List<INDArray> acts = net.feedForward(Nd4j.create(samples), false);
        List<Quantisers.Range> ranges = new ArrayList<>();
        ranges.add(range(acts.get(0)));
        for (int l = 0; l < net.getnLayers() - 1; l++) {
            if (weighted(net.getLayer(l))) {
                ranges.add(range(acts.get(l + 1)));
            }
        }
        return ranges;
    }

    private static Quantisers.Range range(INDArray a) {
        return new Quantisers.Range(a.minNumber().floatValue(), a.maxNumber().floatValue());
    }

    private static boolean weighted(Layer layer) {
        return layer.paramTable().containsKey(DefaultParamInitializer.WEIGHT_KEY);
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

    /**
     * Quantises {@code net} with {@code weightBits}-bit weights over the given activation ranges: the input
     * range, then one per dense or convolution layer but the last. Max pooling passes its input's
     * quantisation on; dropout layers vanish; convolutions read a [channels, height, width] input, flattened
     * channel-major as DL4J flattens it.
     */
    public static Int8Model export(MultiLayerNetwork net, List<Quantisers.Range> ranges, int weightBits) {
        List<dev.distill.runtime.Layer> out = new ArrayList<>();
        int[] map = inputMap(net);   // [channels, height, width] while the activations are a feature map
        int width = -1;
        int next = 1;
        float inScale = ranges.get(0).scale();
        int last = -1;
        for (int l = 0; l < net.getnLayers(); l++) {
            if (weighted(net.getLayer(l))) {
                last = l;
            }
        }
        for (int l = 0; l < net.getnLayers(); l++) {
            Layer layer = net.getLayer(l);
            var conf = layer.conf().getLayer();
            if (conf instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer a) {
                if (l != 0 || !(a.getActivationFn() instanceof QuantisedActivation)) {
                    throw new IllegalArgumentException("layer " + l + " is an activation layer; the int8 runtime"
                            + " does not support it");
                }
                continue; // the input quantiser: its range is ranges.get(0)
            }
            if (conf instanceof org.deeplearning4j.nn.conf.layers.DropoutLayer) {
                continue;
            }
            if (conf instanceof org.deeplearning4j.nn.conf.layers.SubsamplingLayer pool) {
                if (map == null || pool.getPoolingType() != org.deeplearning4j.nn.conf.layers.PoolingType.MAX) {
                    throw new IllegalArgumentException("layer " + l + " is " + pool.getPoolingType()
                            + " pooling; the int8 runtime supports max pooling over a feature map");
                }
                int[] g = window(map, pool.getKernelSize(), pool.getStride(), pool.getPadding(), pool.getConvolutionMode());
                out.add(new MaxPoolLayer(map[0], map[1], map[2], g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]));
                map = new int[] {map[0], g[6], g[7]};
                continue;
            }
            if (!weighted(layer) || !(conf instanceof org.deeplearning4j.nn.conf.layers.BaseLayer base)) {
                throw new IllegalArgumentException("layer " + l + " is a " + layer.getClass().getSimpleName()
                        + "; the int8 runtime supports dense, convolution and max-pooling layers");
            }
            DenseLayer.Activation act = activation(base.getActivationFn(), l);
            boolean isLast = l == last;
            if (next > ranges.size() || (!isLast && next >= ranges.size())) {
                throw new IllegalArgumentException("need a range for the input and for each hidden dense or"
                        + " convolution layer; got " + ranges.size());
            }
            Quantisers.Range outRange = isLast ? null : ranges.get(next++);
            float[] w = FlatArrays.of(layer.getParam(DefaultParamInitializer.WEIGHT_KEY));
            if (conf instanceof ConvolutionLayer c) {
                if (map == null) {
                    throw new IllegalArgumentException("layer " + l + " is a convolution after a dense layer");
                }
                for (int d : c.getDilation()) {
                    if (d != 1) {
                        throw new IllegalArgumentException("layer " + l + " is a dilated convolution; the int8 runtime"
                                + " supports dilation 1");
                    }
                }
                int filters = (int) c.getNOut();
                int[] g = window(map, c.getKernelSize(), c.getStride(), c.getPadding(), c.getConvolutionMode());
                Quantisers.Weights q = Quantisers.perBlock(w, filters, weightBits);
                out.add(new ConvLayer(map[0], map[1], map[2], filters, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                        act, q.scales(), q.codes(), biases(layer, q.scales(), inScale, filters), outRange.scale(),
                        outRange.zeroPoint()));
                map = new int[] {filters, g[6], g[7]};
                inScale = outRange.scale();
                continue;
            }
            var ff = (FeedForwardLayer) conf;
            int in = (int) ff.getNIn();
            int n = (int) ff.getNOut();
            if (map != null) {
                width = map[0] * map[1] * map[2];
                map = null;
            }
            if (width >= 0 && in != width) {
                throw new IllegalStateException("layer " + l + " takes " + in + " inputs; the previous layer gives " + width);
            }
            if (w.length != in * n) {
                throw new IllegalStateException("layer " + l + " has " + w.length + " weights; expected " + in * n);
            }
            Quantisers.Weights q = Quantisers.perColumn(w, in, n, weightBits);
            out.add(new DenseLayer(in, n, act, q.scales(), q.codes(), biases(layer, q.scales(), inScale, n),
                    isLast ? 0f : outRange.scale(), isLast ? 0 : outRange.zeroPoint()));
            width = n;
            if (!isLast) {
                inScale = outRange.scale();
            }
        }
        int inputLength = out.get(0).inputSize();
        return new Int8Model(inputLength, ranges.get(0).scale(), ranges.get(0).zeroPoint(), out);
    }

    private static DenseLayer.Activation activation(org.nd4j.linalg.activations.IActivation fn, int l) {
        if (fn instanceof ActivationReLU || fn instanceof QuantisedActivation q && q.isRelu()) {
            return DenseLayer.Activation.RELU;
        }
        if (fn instanceof ActivationIdentity || fn instanceof QuantisedActivation) {
            return DenseLayer.Activation.IDENTITY;
        }
        throw new IllegalArgumentException("layer " + l + " uses " + fn + "; the int8 runtime supports relu and identity");
    }

    /** int32 biases in units of input scale × weight scale; zeros for a layer without bias (a low-rank U). */
    private static int[] biases(Layer layer, float[] scales, float inScale, int n) {
        float[] b = layer.paramTable().containsKey(DefaultParamInitializer.BIAS_KEY)
                ? FlatArrays.of(layer.getParam(DefaultParamInitializer.BIAS_KEY)) : new float[n];
        int[] bias = new int[n];
        for (int j = 0; j < n; j++) {
            bias[j] = (int) Math.max(-(1 << 30), Math.min(1 << 30, Math.rint(b[j] / (inScale * scales[j]))));
        }
        return bias;
    }

    /** [channels, height, width] of the network's input when it is an image (a convolution preprocessor), else null. */
    private static int[] inputMap(MultiLayerNetwork net) {
        for (var p : net.getLayerWiseConfigurations().getInputPreProcessors().entrySet()) {
            if (p.getValue() instanceof org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor f) {
                for (int l = 0; l < p.getKey(); l++) {
                    if (weighted(net.getLayer(l))) {
                        return null;
                    }
                }
                return new int[] {(int) f.getNumChannels(), (int) f.getInputHeight(), (int) f.getInputWidth()};
            }
        }
        return null;
    }

    /**
     * Kernel h/w, stride h/w, top/left padding and output h/w of a window over {@code map}, as DL4J computes
     * them: "same" mode gives ceil(in / stride) outputs with floor(total padding / 2) at the top and left;
     * "truncate" mode the explicit padding and floor((in + 2·pad − kernel) / stride) + 1 outputs.
     */
    static int[] window(int[] map, int[] kernel, int[] stride, int[] padding, ConvolutionMode mode) {
        int[] r = new int[8];
        for (int d = 0; d < 2; d++) {
            int in = map[1 + d];
            int k = kernel[d];
            int s = stride[d];
            int outSize;
            int pad;
            if (mode == ConvolutionMode.Same) {
                outSize = (in + s - 1) / s;
                pad = Math.max(0, ((outSize - 1) * s + k - in) / 2);
            } else {
                pad = padding == null ? 0 : padding[d];
                outSize = (in + 2 * pad - k) / s + 1;
            }
            r[d] = k;
            r[2 + d] = s;
            r[4 + d] = pad;
            r[6 + d] = outSize;
        }
        return r;
    }
}
