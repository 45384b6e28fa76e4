package dev.distill.student.export;

import dev.distill.student.FlatArrays;
import dev.distill.student.quant.Qat;
import dev.distill.student.quant.QuantisedActivation;
import dev.distill.student.quant.Quantisers;
import dev.distill.runtime.AvgPoolLayer;
import dev.distill.runtime.ConvLayer;
import dev.distill.runtime.DepthwiseConvLayer;
import dev.distill.runtime.DenseLayer;
import dev.distill.runtime.Int8Model;
import dev.distill.runtime.MaxPoolLayer;
import dev.distill.runtime.ResidualAddLayer;
import dev.distill.student.layers.ResidualAdd;
import dev.distill.student.layers.ResidualStart;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
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
 * Converts a trained network of dense, convolution, depthwise convolution, batch normalisation, max-,
 * average- and global-average-pooling layers and residual blocks (ReLU or identity, identity output) into
 * the runtime's {@link Int8Model}, with the quantisers of {@link Quantisers}: symmetric per-output-channel
 * weights, asymmetric uint8 activations (the input and each hidden weighted layer's output), and int32 biases
 * in units of input scale × weight scale, {@code q = rint(b_j / (s_in · s_j))}.
 *
 * <p>Batch normalisation is folded into the weighted layer right before it (Jacob et al. 2018, "Quantization
 * and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference", section 3.2): with k_c =
 * γ_c / √(σ²_c + ε), channel c's weights become k_c·W_c and its bias k_c·(b_c − μ_c) + β_c, and the batch norm's
 * activation becomes the layer's; that layer's own activation must be the identity. Scaling a channel's
 * weights does not change their symmetric per-channel int8 codes, only the channel's scale, so a network
 * trained quantisation-aware with batch norm keeps the weight codes it trained with.
 *
 * <p>Activation ranges come from training when the network was trained quantisation-aware ({@link
 * #exportQuantised}: its tracked ranges and the weight bits it trained with, so the int8 model computes what
 * its fake-quantised forward pass computed), or from {@link #calibrate} (min/max over sample inputs,
 * post-training quantisation).
 */
public final class Int8Exporter {
    private Int8Exporter() {
    }

    /** Rows fed through the network at once while calibrating (every layer's activations are held). */
    static final int CALIBRATION_CHUNK = 256;

    /**
     * Post-training calibration: the input range and the output range of every dense and convolution layer
     * but the last and of every residual add, over {@code samples} (rows × features), in layer order. The rows
     * go through in chunks of {@value #CALIBRATION_CHUNK}, so the activations held at once stay small for wide feature maps.
     */
    public static List<Quantisers.Range> calibrate(MultiLayerNetwork net, float[][] samples) {
        List<Integer> taps = new ArrayList<>();
        taps.add(0);
        for (int l = 0; l < net.getnLayers() - 1; l++) {
            if (weighted(net.getLayer(l))) {
                // A batch norm right after (and its activation layer) is folded in: the folded layer's output is theirs.
                taps.add(foldedEnd(net, l) + 1);
            } else if (net.getLayer(l).conf().getLayer() instanceof ResidualAdd) {
                taps.add(l + 1);
            }
        }
        float[] lo = new float[taps.size()];
        float[] hi = new float[taps.size()];
        java.util.Arrays.fill(lo, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(hi, Float.NEGATIVE_INFINITY);
        for (int from = 0; from < samples.length; from += CALIBRATION_CHUNK) {
            float[][] chunk = java.util.Arrays.copyOfRange(samples, from, Math.min(samples.length, from + CALIBRATION_CHUNK));
            List<INDArray> acts = net.feedForward(Nd4j.create(chunk), false);
            for (int k = 0; k < taps.size(); k++) {
                INDArray a = acts.get(taps.get(k));
                lo[k] = Math.min(lo[k], a.minNumber().floatValue());
                hi[k] = Math.max(hi[k], a.maxNumber().floatValue());
            }
        }
        List<Quantisers.Range> ranges = new ArrayList<>();
        for (int k = 0; k < taps.size(); k++) {
            ranges.add(new Quantisers.Range(lo[k], hi[k]));
        }
        return ranges;
    }

    private static boolean weighted(Layer layer) {
        return layer.paramTable().containsKey(DefaultParamInitializer.WEIGHT_KEY);
    }

    /** True when layer {@code l + 1} is a batch normalisation (folded into layer {@code l}). */
    private static boolean batchNormAfter(MultiLayerNetwork net, int l) {
        return l + 1 < net.getnLayers()
                && net.getLayer(l + 1).conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization;
    }

    /** True when layer {@code l} is an activation layer (the activation of a batch norm, a layer of its own). */
    private static boolean activationLayer(MultiLayerNetwork net, int l) {
        return l < net.getnLayers()
                && net.getLayer(l).conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer;
    }

    /**
     * The last layer that weighted layer {@code l} stands for once folded: itself, its batch norm, or the batch
     * norm's activation layer.
     */
    private static int foldedEnd(MultiLayerNetwork net, int l) {
        if (!batchNormAfter(net, l)) {
            return l;
        }
        return activationLayer(net, l + 2) ? l + 2 : l + 1;
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
        java.util.ArrayDeque<Integer> blockStarts = new java.util.ArrayDeque<>();   // runtime index of each open block's first layer
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
            if (conf instanceof ResidualStart) {
                blockStarts.push(out.size());
                continue;
            }
            if (conf instanceof ResidualAdd add) {
                int start = blockStarts.pop();
                if (out.isEmpty()) {
                    throw new IllegalArgumentException("layer " + l + " ends a residual block before the first weighted"
                            + " layer; the int8 runtime adds blocks that follow one");
                }
                if (next >= ranges.size()) {
                    throw new IllegalArgumentException("need a range for the input, each hidden dense or convolution"
                            + " layer and each residual add; got " + ranges.size());
                }
                Quantisers.Range outRange = ranges.get(next++);
                int size = out.get(out.size() - 1).outputSize();
                out.add(new ResidualAddLayer(size, start, activation(add.getActivationFn(), l), outRange.scale(),
                        outRange.zeroPoint()));
                inScale = outRange.scale();
                continue;
            }
            if (conf instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                throw new IllegalArgumentException("layer " + l + " is a batch normalisation that does not follow a"
                        + " dense, convolution or depthwise layer; the int8 runtime folds batch normalisation into the"
                        + " weighted layer right before it");
            }
            if (conf instanceof org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer gp) {
                if (map == null || gp.getPoolingType() != org.deeplearning4j.nn.conf.layers.PoolingType.AVG) {
                    throw new IllegalArgumentException("layer " + l + " is global " + gp.getPoolingType() + " pooling;"
                            + " the int8 runtime supports global average pooling over a feature map");
                }
                out.add(AvgPoolLayer.global(map[0], map[1], map[2]));
                width = map[0];
                map = null;
                continue;
            }
            if (conf instanceof org.deeplearning4j.nn.conf.layers.SubsamplingLayer pool) {
                boolean max = pool.getPoolingType() == org.deeplearning4j.nn.conf.layers.PoolingType.MAX;
                boolean avg = pool.getPoolingType() == org.deeplearning4j.nn.conf.layers.PoolingType.AVG;
                if (map == null || !(max || avg)) {
                    throw new IllegalArgumentException("layer " + l + " is " + pool.getPoolingType()
                            + " pooling; the int8 runtime supports max and average pooling over a feature map");
                }
                int[] g = window(map, pool.getKernelSize(), pool.getStride(), pool.getPadding(), pool.getConvolutionMode());
                if (max) {
                    out.add(new MaxPoolLayer(map[0], map[1], map[2], g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]));
                } else {
                    if (g[4] != 0 || g[5] != 0 || (g[6] - 1) * g[2] + g[0] > map[1] || (g[7] - 1) * g[3] + g[1] > map[2]) {
                        throw new IllegalArgumentException("layer " + l + " is average pooling " + g[0] + "x" + g[1]
                                + " with stride " + g[2] + " over a " + map[1] + "x" + map[2] + " map, whose windows reach"
                                + " into the padding; the int8 runtime averages windows inside the map (a map size the"
                                + " pooling kernel divides)");
                    }
                    out.add(new AvgPoolLayer(map[0], map[1], map[2], g[0], g[1], g[2], g[3], g[6], g[7]));
                }
                map = new int[] {map[0], g[6], g[7]};
                continue;
            }
            if (!weighted(layer) || !(conf instanceof org.deeplearning4j.nn.conf.layers.BaseLayer base)) {
                throw new IllegalArgumentException("layer " + l + " is a " + layer.getClass().getSimpleName()
                        + "; the int8 runtime supports dense, convolution, depthwise convolution, batch normalisation"
                        + " (after one of those), max and average pooling, global average pooling and residual blocks");
            }
            boolean isLast = l == last;
            if (next > ranges.size() || (!isLast && next >= ranges.size())) {
                throw new IllegalArgumentException("need a range for the input and for each hidden dense or"
                        + " convolution layer; got " + ranges.size());
            }
            Quantisers.Range outRange = isLast ? null : ranges.get(next++);
            float[] w = FlatArrays.of(layer.getParam(DefaultParamInitializer.WEIGHT_KEY));
            int channels = (int) ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) conf).getNOut();
            boolean depthwise = conf instanceof DepthwiseConvolution2D;
            if (depthwise) {
                w = depthwiseChannelMajor(layer, w, l);   // [channel][ky][kx]
            }
            float[] b = layer.paramTable().containsKey(DefaultParamInitializer.BIAS_KEY)
                    ? FlatArrays.of(layer.getParam(DefaultParamInitializer.BIAS_KEY)) : new float[channels];
            org.nd4j.linalg.activations.IActivation fn = base.getActivationFn();
            if (batchNormAfter(net, l)) {
                if (!(fn instanceof ActivationIdentity)) {   // a quantiser here would take a range of its own
                    throw new IllegalArgumentException("layer " + (l + 1) + " is a batch normalisation after layer " + l
                            + ", whose activation is " + fn + "; it can be folded into that layer only when the layer's"
                            + " activation is identity (conv, batch-norm, then the activation on the batch norm)");
                }
                Layer bn = net.getLayer(l + 1);
                fold(bn, w, b, channels, conf instanceof ConvolutionLayer ? w.length / channels : 0, l + 1);   // depthwise: already [channel][ky][kx]
                // DL4J's batch norm applies no activation: the one after it is an activation layer of its own.
                fn = activationLayer(net, l + 2) ? ((org.deeplearning4j.nn.conf.layers.ActivationLayer) net.getLayer(l + 2)
                        .conf().getLayer()).getActivationFn() : new ActivationIdentity();
                l = foldedEnd(net, l);   // the batch norm and its activation are done
            }
            DenseLayer.Activation act = activation(fn, l);
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
                int[] g = window(map, c.getKernelSize(), c.getStride(), c.getPadding(), c.getConvolutionMode());
                Quantisers.Weights q = Quantisers.perBlock(w, channels, weightBits);
                int[] bias = biases(b, q.scales(), inScale);
                if (depthwise) {
                    out.add(new DepthwiseConvLayer(map[0], map[1], map[2], g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                            act, q.scales(), q.codes(), bias, outRange.scale(), outRange.zeroPoint()));
                } else {
                    out.add(new ConvLayer(map[0], map[1], map[2], channels, g[0], g[1], g[2], g[3], g[4], g[5], g[6],
                            g[7], act, q.scales(), q.codes(), bias, outRange.scale(), outRange.zeroPoint()));
                }
                map = new int[] {channels, g[6], g[7]};
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
            out.add(new DenseLayer(in, n, act, q.scales(), q.codes(), biases(b, q.scales(), inScale),
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

    /** int32 biases in units of input scale × weight scale. */
    private static int[] biases(float[] b, float[] scales, float inScale) {
        int[] bias = new int[b.length];
        for (int j = 0; j < b.length; j++) {
            bias[j] = (int) Math.max(-(1 << 30), Math.min(1 << 30, Math.rint(b[j] / (inScale * scales[j]))));
        }
        return bias;
    }

    /**
     * Folds batch normalisation {@code bn} into weights {@code w} and biases {@code b} of {@code channels}
     * output channels, in place: channel-major blocks of {@code block} weights (convolutions), or, with {@code
     * block} 0, a dense layer's [in][out] matrix whose column is the channel. The running statistics are those
     * of inference: DL4J stores σ² as a variance or, with useLogStd (its default), as log10 √σ², and divides by
     * √(σ² + ε) either way.
     */
    static void fold(Layer bn, float[] w, float[] b, int channels, int block, int at) {
        var conf = (org.deeplearning4j.nn.conf.layers.BatchNormalization) bn.conf().getLayer();
        float[] gamma = FlatArrays.of(bn.getParam(BatchNormalizationParamInitializer.GAMMA));
        float[] beta = FlatArrays.of(bn.getParam(BatchNormalizationParamInitializer.BETA));
        float[] mean = FlatArrays.of(bn.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN));
        boolean logStd = bn.paramTable().containsKey(BatchNormalizationParamInitializer.GLOBAL_LOG_STD);
        float[] spread = FlatArrays.of(bn.getParam(logStd ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
                : BatchNormalizationParamInitializer.GLOBAL_VAR));
        if (gamma.length != channels) {
            throw new IllegalArgumentException("layer " + at + " normalises " + gamma.length + " channels; the layer"
                    + " before it gives " + channels);
        }
        int in = block == 0 ? w.length / channels : 0;
        for (int c = 0; c < channels; c++) {
            // DL4J's log-std form stores log10 of the batch's √σ² (no ε) and adds ε at inference.
            double variance = logStd ? Math.pow(10, 2.0 * spread[c]) : spread[c];
            double std = Math.sqrt(variance + conf.getEps());
            float k = (float) (gamma[c] / std);
            if (block > 0) {
                for (int i = c * block; i < (c + 1) * block; i++) {
                    w[i] *= k;
                }
            } else {
                for (int i = 0; i < in; i++) {
                    w[i * channels + c] *= k;
                }
            }
            b[c] = (b[c] - mean[c]) * k + beta[c];
        }
    }

    /**
     * A depthwise layer's weights (DL4J's [kernel h, kernel w, channels, multiplier 1]) as [channel][ky][kx],
     * the runtime's order.
     */
    private static float[] depthwiseChannelMajor(Layer layer, float[] w, int at) {
        long[] shape = layer.getParam(DefaultParamInitializer.WEIGHT_KEY).shape();
        if (shape.length != 4 || shape[3] != 1) {
            throw new IllegalArgumentException("layer " + at + " is a depthwise convolution with weights of shape "
                    + java.util.Arrays.toString(shape) + "; the int8 runtime supports depth multiplier 1");
        }
        int kh = (int) shape[0];
        int kw = (int) shape[1];
        int channels = (int) shape[2];
        float[] out = new float[w.length];
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                for (int c = 0; c < channels; c++) {
                    out[(c * kh + ky) * kw + kx] = w[(ky * kw + kx) * channels + c];
                }
            }
        }
        return out;
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
