package dev.distill.runtime;

import java.util.List;

/**
 * A quantised feed-forward model and its integer inference: dense layers, optionally after 2-D convolutions,
 * depthwise convolutions, max and average pooling over a channel-major input (a flattened [channels, height,
 * width] image), and residual blocks ({@link ResidualAddLayer}). The input is quantised to uint8 with
 * (inputScale, inputZeroPoint); each dense layer accumulates {@code Σ w·(q − z)} in int32 (int8 × int8
 * products, exact), adds the int32 bias, rescales by inputScale · weightScale_j, applies its activation
 * and, except for the last layer, requantises to uint8 rounding half to even ({@link Math#rint}), as
 * ONNX's QuantizeLinear does. The last layer's rescaled accumulators are the logits.
 *
 * <p>Inference walks each layer input by input over an input-major copy of the weights, skipping inputs at
 * their zero point (background pixels, ReLU zeros) whose products are all zero; the inner loop over output
 * channels is contiguous. The result is the same integer sum as the channel-major definition above.
 *
 * <p>Where the JVM has the Vector API ({@code --add-modules jdk.incubator.vector}), {@link #logits} runs {@link
 * SimdInference} instead on a model that starts with a convolution or pooling and that it can run exactly: the
 * same logits, bit for bit, 1.6-3.1× faster on the students here ({@link #simd()} says which runs).
 */
public final class Int8Model {
    private final int inputLength;
    private final float inputScale;
    private final int inputZeroPoint;
    private final List<Layer> layers;
    /** Per layer, the weights input-major: {@code [i * out + j] = weights[j * in + i]}. */
    private final byte[][] inputMajor;
    /** Per layer, true when a residual add reads the layer's input (the start of a block). */
    private final boolean[] kept;
    /** Each thread's working arrays, reused from call to call (see {@link Scratch}). */
    private final ThreadLocal<Scratch> scratch;
    /** The SIMD inference of this model, or null where it runs the scalar one (see {@link #simd()}). */
    private final Engine simd;

    /** An inference of the model: the logits of one input. */
    interface Engine {
        float[] logits(float[] features);
    }

    /**
     * The system property that turns the SIMD inference off ({@code -Ddistill.runtime.simd=false}); it is on by
     * default wherever the JVM has the Vector API.
     */
    public static final String SIMD_PROPERTY = "distill.runtime.simd";

    public Int8Model(int inputLength, float inputScale, int inputZeroPoint, List<? extends Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one layer");
        }
        if (!(inputScale > 0) || inputZeroPoint < 0 || inputZeroPoint > 255) {
            throw new IllegalArgumentException("input quantisation needs scale > 0 and zero point in [0, 255], got "
                    + inputScale + ", " + inputZeroPoint);
        }
        int width = inputLength;
        int[] entering = new int[layers.size()];
        boolean[] keep = new boolean[layers.size()];
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            entering[l] = width;
            if (layer instanceof ResidualAddLayer r) {
                if (r.start() > l) {
                    throw new IllegalArgumentException("layer " + l + " adds the input of layer " + r.start()
                            + ", which comes after it; a residual block starts at or before its add");
                }
                if (entering[r.start()] != r.size()) {
                    throw new IllegalArgumentException("layer " + l + " adds the input of layer " + r.start() + ", "
                            + entering[r.start()] + " values, to its own " + r.size() + "; a residual block must keep"
                            + " its input's size");
                }
                keep[r.start()] = true;
            }
            if (layer.inputSize() != width) {
                throw new IllegalArgumentException("layer " + l + " takes " + layer.inputSize() + " inputs but receives "
                        + width);
            }
            boolean last = l == layers.size() - 1;
            if (last && !(layer instanceof DenseLayer)) {
                throw new IllegalArgumentException("the last layer must be dense (it gives the logits)");
            }
            float outScale = layer instanceof DenseLayer d ? d.outputScale()
                    : layer instanceof ConvLayer c ? c.outputScale()
                    : layer instanceof DepthwiseConvLayer dw ? dw.outputScale()
                    : layer instanceof ResidualAddLayer r ? r.outputScale() : 1f;
            int outZero = layer instanceof DenseLayer d ? d.outputZeroPoint()
                    : layer instanceof ConvLayer c ? c.outputZeroPoint()
                    : layer instanceof DepthwiseConvLayer dw ? dw.outputZeroPoint()
                    : layer instanceof ResidualAddLayer r ? r.outputZeroPoint() : 0;
            if (!last && (!(outScale > 0) || outZero < 0 || outZero > 255)) {
                throw new IllegalArgumentException("layer " + l + " needs an output scale > 0 and zero point in [0, 255]");
            }
            width = layer.outputSize();
        }
        this.inputLength = inputLength;
        this.inputScale = inputScale;
        this.inputZeroPoint = inputZeroPoint;
        this.layers = List.copyOf(layers);
        this.kept = keep;
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(layers.size()));
        this.inputMajor = new byte[layers.size()][];
        for (int l = 0; l < layers.size(); l++) {
            if (!(layers.get(l) instanceof DenseLayer d)) {
                continue;
            }
            byte[] w = d.weights();
            byte[] t = new byte[w.length];
            for (int j = 0; j < d.out(); j++) {
                for (int i = 0; i < d.in(); i++) {
                    t[i * d.out() + j] = w[j * d.in() + i];
                }
            }
            inputMajor[l] = t;
        }
        this.simd = simdEngine(this);
    }

    /**
     * The SIMD inference ({@link SimdInference}) when the JVM has the Vector API (started with {@code
     * --add-modules jdk.incubator.vector}), it is not turned off by {@link #SIMD_PROPERTY}, and it gives this
     * model's results exactly; otherwise null. Loaded by name: the class cannot even be linked without the module.
     */
    private static Engine simdEngine(Int8Model model) {
        if (!Boolean.parseBoolean(System.getProperty(SIMD_PROPERTY, "true"))
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            return (Engine) Class.forName("dev.distill.runtime.SimdInference")
                    .getDeclaredMethod("plan", Int8Model.class).invoke(null, model);
        } catch (LinkageError e) {
            return null;   // a Vector API this class was not compiled against: the scalar inference gives the same
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof LinkageError) {
                return null;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the SIMD inference cannot be loaded", e);
        }
    }

    /**
     * True when {@link #logits} runs on SIMD registers through the Vector API, false when it runs the scalar
     * inference. Both give the same logits, bit for bit.
     */
    public boolean simd() {
        return simd != null;
    }

    public int inputLength() {
        return inputLength;
    }

    public int numClasses() {
        return layers.get(layers.size() - 1).outputSize();
    }

    public float inputScale() {
        return inputScale;
    }

    public int inputZeroPoint() {
        return inputZeroPoint;
    }

    public List<Layer> layers() {
        return layers;
    }

    public long parameters() {
        long n = 0;
        for (Layer layer : layers) {
            n += layer.parameters();
        }
        return n;
    }

    /** 1.5 · 2²³: adding it to a float of magnitude ≤ 2²² leaves only the integer part, rounded half to even. */
    private static final float ROUND = 12582912f;

    /**
     * Quantises a real value to uint8: clamp(rint(x / scale) + zeroPoint, 0, 255), NaN to 0. The rounding is
     * done in float arithmetic (Math.rint goes through double): x / scale is first held to ±512 (beyond which
     * the result is 0 or 255 for every zero point in [0, 255], the only ones a model holds), and
     * (v + 1.5·2²³) − 1.5·2²³ is v rounded half to even exactly for |v| ≤ 2²², as Math.rint rounds it.
     */
    static int quantize(float x, float scale, int zeroPoint) {
        float v = Math.min(Math.max(x / scale, -512f), 512f);
        int q = (int) (((v + ROUND) - ROUND) + zeroPoint);   // a NaN stays NaN until here, and (int) NaN is 0
        return Math.max(0, Math.min(255, q));
    }

    /** The bits of {@link #ROUND}: (v + ROUND)'s bits minus these are rint(v), for |v| ≤ 2²². */
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);

    /**
     * {@code next[c·plane + p] = quantize(act(acc[c·plane + p] · factors[c]))} for every channel c and position
     * p: the codes of a convolution's output, whose channels each have a factor. The same codes as {@link
     * #quantize} of the activation, computed without branches or a float-to-int conversion: x = acc·m /
     * outScale held to [lower − zeroPoint, 255 − zeroPoint] (lower is the zero point under ReLU, since real ≤ 0
     * → the zero point, else 0), rounded half to even by adding 1.5·2²³ and read from the float's bits, plus
     * the zero point. Clamping before rounding gives the codes clamping after it would, as the bounds are whole
     * numbers and rounding is monotonic. The division, clamp and rounding run as one loop of their own over
     * the whole layer's floats, which the JIT turns into SIMD instructions (it does not vectorise int-to-float
     * or float-to-bits conversions, so a single loop stays scalar; and a loop per channel of 49-196 values
     * leaves much of each to the scalar tail). A channel whose factor is not finite, or a scale that is not
     * (a hand-made model: an infinite factor times 0 is NaN, which gives code 0), is requantised value by value
     * with quantize itself.
     */
    static void requantize(int[] acc, int plane, float[] factors, boolean relu, float outScale, int zeroPoint,
                           int[] next) {
        requantize(acc, plane, factors, relu, outScale, zeroPoint, next, new float[acc.length]);
    }

    /** {@link #requantize(int[], int, float[], boolean, float, int, int[])} with working space {@code v}. */
    static void requantize(int[] acc, int plane, float[] factors, boolean relu, float outScale, int zeroPoint,
                           int[] next, float[] v) {
        boolean scaleFinite = outScale > 0 && Float.isFinite(outScale);
        for (int c = 0; c < factors.length; c++) {
            float m = factors[c];
            for (int k = c * plane; k < (c + 1) * plane; k++) {
                v[k] = acc[k] * m;
            }
        }
        // With the factor and outScale finite, acc·m / outScale is finite or infinite, never NaN.
        codes(v, outScale, relu, zeroPoint, next);
        for (int c = 0; c < factors.length; c++) {
            float m = factors[c];
            if (scaleFinite && Float.isFinite(m)) {
                continue;
            }
            for (int k = c * plane; k < (c + 1) * plane; k++) {
                float real = acc[k] * m;
                next[k] = quantize(relu && real < 0 ? 0 : real, outScale, zeroPoint);
            }
        }
    }

    /**
     * {@code next[k] = quantize(act(reals[k]), outScale, zeroPoint)} for reals that are never NaN and an
     * outScale that is finite and > 0, as {@link #requantize} describes (overwrites {@code reals}).
     */
    static void codes(float[] reals, float outScale, boolean relu, int zeroPoint, int[] next) {
        int lower = relu ? zeroPoint : 0;
        roundedCodes(reals, outScale, lower - zeroPoint, 255 - zeroPoint);
        int shift = zeroPoint - ROUND_BITS;
        for (int k = 0; k < reals.length; k++) {
            next[k] = Float.floatToRawIntBits(reals[k]) + shift;
        }
    }

    /** {@code v[k] = clamp(v[k] / scale, lo, hi) + 1.5·2²³}: one SIMD loop (float min/max, division, addition). */
    private static void roundedCodes(float[] v, float scale, float lo, float hi) {
        for (int k = 0; k < v.length; k++) {
            v[k] = Math.min(Math.max(v[k] / scale, lo), hi) + ROUND;
        }
    }

    /** The logits for one input of {@link #inputLength()} features. */
    public float[] logits(float[] features) {
        if (features.length != inputLength) {
            throw new IllegalArgumentException("the model takes " + inputLength + " features, got " + features.length);
        }
        return simd != null ? simd.logits(features) : scalarLogits(features);
    }

    /** {@link #logits} by the scalar inference, whether or not the SIMD one runs this model. */
    float[] scalarLogits(float[] features) {
        Scratch work = scratch.get();
        int[] q = new int[inputLength];
        for (int i = 0; i < inputLength; i++) {
            q[i] = quantize(features[i], inputScale, inputZeroPoint);
        }
        float scale = inputScale;
        int zero = inputZeroPoint;
        int[][] keptCodes = null;   // the inputs of the layers that start a residual block, with their quantisation
        float[] keptScales = null;
        int[] keptZeros = null;
        for (int l = 0; ; l++) {
            Layer layer = layers.get(l);
            if (kept[l]) {
                if (keptCodes == null) {
                    keptCodes = new int[layers.size()][];
                    keptScales = new float[layers.size()];
                    keptZeros = new int[layers.size()];
                }
                keptCodes[l] = q;   // no layer changes its input's array
                keptScales[l] = scale;
                keptZeros[l] = zero;
            }
            if (layer instanceof ResidualAddLayer r) {
                q = r.add(q, scale, zero, keptCodes[r.start()], keptScales[r.start()], keptZeros[r.start()],
                        work.floats(l, Scratch.REALS, r.size()));
                scale = r.outputScale();
                zero = r.outputZeroPoint();
                continue;
            }
            if (layer instanceof MaxPoolLayer p) {
                q = p.pool(q);
                continue;
            }
            if (layer instanceof AvgPoolLayer p) {
                q = p.pool(q, zero);
                continue;
            }
            if (layer instanceof ConvLayer || layer instanceof DepthwiseConvLayer) {
                int[] x = work.ints(l, Scratch.CENTRED, q.length);
                for (int i = 0; i < q.length; i++) {
                    x[i] = q[i] - zero;
                }
                ConvLayer c = layer instanceof ConvLayer conv ? conv : null;
                DepthwiseConvLayer dw = c == null ? (DepthwiseConvLayer) layer : null;
                int[] acc = c != null ? c.accumulate(x, work, l) : dw.accumulate(x, work, l);
                int plane = c != null ? c.outHeight() * c.outWidth() : dw.outHeight() * dw.outWidth();
                int channels = c != null ? c.filters() : dw.channels();
                float[] weightScales = c != null ? c.weightScales() : dw.weightScales();
                DenseLayer.Activation act = c != null ? c.activation() : dw.activation();
                float outScale = c != null ? c.outputScale() : dw.outputScale();
                int outZero = c != null ? c.outputZeroPoint() : dw.outputZeroPoint();
                float[] factors = work.floats(l, Scratch.FACTORS, channels);
                for (int f = 0; f < channels; f++) {
                    factors[f] = scale * weightScales[f];   // one rescale factor per output channel
                }
                int[] next = work.ints(l, Scratch.CODES, acc.length);
                requantize(acc, plane, factors, act == DenseLayer.Activation.RELU, outScale, outZero, next,
                        work.floats(l, Scratch.REALS, acc.length));
                q = next;
                scale = outScale;
                zero = outZero;
                continue;
            }
            DenseLayer d = (DenseLayer) layer;
            int out = d.out();
            boolean last = l == layers.size() - 1;
            int[] acc = denseSums(d, inputMajor[l], q, zero);
            int[] nextQ = last ? null : new int[out];
            float[] logits = last ? new float[out] : null;
            for (int j = 0; j < out; j++) {
                float real = acc[j] * (scale * d.weightScales()[j]);
                if (d.activation() == DenseLayer.Activation.RELU && real < 0) {
                    real = 0;
                }
                if (last) {
                    logits[j] = real;
                } else {
                    nextQ[j] = quantize(real, d.outputScale(), d.outputZeroPoint());
                }
            }
            if (last) {
                return logits;
            }
            q = nextQ;
            scale = d.outputScale();
            zero = d.outputZeroPoint();
        }
    }

    /**
     * A dense layer's int32 sums, bias + Σ_i w·(q[i] − zero), walking its input-major weights input by input and
     * skipping inputs at the zero point (whose products are all zero). Shared with {@link SimdInference}, which
     * passes centred codes and zero 0.
     */
    static int[] denseSums(DenseLayer d, byte[] inputMajor, int[] q, int zero) {
        int out = d.out();
        int[] acc = d.bias().clone();
        for (int i = 0; i < d.in(); i++) {
            int x = q[i] - zero;
            if (x == 0) {
                continue;
            }
            int base = i * out;
            for (int j = 0; j < out; j++) {
                acc[j] += inputMajor[base + j] * x;
            }
        }
        return acc;
    }

    /** Layer l's weights input-major ({@code [i · out + j]}) when it is dense, else null. */
    byte[] inputMajor(int l) {
        return inputMajor[l];
    }

    /** The predicted class (arg max of the logits; the first on ties). */
    public int predict(float[] features) {
        float[] z = logits(features);
        int best = 0;
        for (int k = 1; k < z.length; k++) {
            if (z[k] > z[best]) {
                best = k;
            }
        }
        return best;
    }

    /** Predicted classes for a batch of inputs. */
    public int[] predict(float[][] batch) {
        int[] out = new int[batch.length];
        for (int r = 0; r < batch.length; r++) {
            out[r] = predict(batch[r]);
        }
        return out;
    }
}
