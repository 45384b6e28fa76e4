package dev.distill.runtime;

import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int8Model}'s inference on the CPU's SIMD registers, through the JDK's Vector API ({@code
 * jdk.incubator.vector}, an incubating module of Java 17: the JVM has it only when started with {@code
 * --add-modules jdk.incubator.vector}). It gives the scalar inference's logits bit for bit:
 * <ul>
 *   <li>Every value between layers is held as its centred code, code − zero point, in a float: a whole
 *       number in [−255, 255], so the next layer needs no centring pass and convolutions, pooling and residual
 *       adds no int-float conversions (which the JIT leaves scalar). Dense layers, and the input's
 *       quantisation, convert as the scalar inference does.
 *   <li>Convolutions and depthwise convolutions sum in floats. Products of int8 weights and centred codes,
 *       and their sums, are whole numbers; with every filter's bound |bias| + 255·Σ|w| below 2²⁴, each
 *       partial sum is exact and the order of the additions does not matter. Multiply and add are two
 *       operations, not a fused multiply-add: the same bits, and no slow software fallback on CPUs without
 *       FMA. Dense layers sum in int32 as the scalar inference does.
 *   <li>A convolution's requantisation does the scalar float operations in the same order: sum × (input
 *       scale × weight scale), ÷ output scale, clamped to [lower, 255 − zero point], rounded half to even by
 *       adding and subtracting 1.5·2²³, in a SIMD pass over each filter's stored sums; a residual add's is the
 *       same from its real sum; a dense layer calls {@link Int8Model#quantize}.
 * </ul>
 * Convolutions are matrix products over the rows of the patch matrix (the input's own planes for a 1×1
 * convolution), four filters by two vectors of positions at a time, the eight sums held in registers.
 * Depthwise convolutions that keep the map's size read their taps as shifted loads from one zero-bordered copy
 * of the channel per kernel column. Each channel's plane is padded to a whole number of blocks of positions;
 * what the padding holds only ever goes into other padding, which no layer uses.
 *
 * <p>{@link #plan} returns null, and {@link Int8Model} runs its scalar inference for the whole model, when
 * the first layer is dense (a dense model: the scalar loops skip zero inputs and are fast already) or a
 * residual add, a convolution's or depthwise convolution's bound reaches 2²⁴, an average pooling window holds
 * 255·window ≥ 2²⁴, a convolution's scale product is not finite (the scalar inference handles those value by
 * value), a residual add's two inputs are laid out differently, a layer's declared shape differs from the map
 * before it, or a convolution or pooling follows a dense layer.
 */
final class SimdInference implements Int8Model.Engine {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Positions per block of the matrix product: two vectors. */
    private static final int BLOCK = 2 * L;
    /** 1.5 · 2²³ (see {@link Int8Model#quantize}). */
    private static final float ROUND = 12582912f;
    /** Sums below this magnitude are exact in a float. */
    private static final double EXACT = 1 << 24;

    /** A feature map: {@code channels} planes of {@code plane} values, plane c starting at c · stride. */
    private record Layout(int channels, int plane, int stride) {
        static Layout of(int channels, int plane) {
            return new Layout(channels, plane, (plane + BLOCK - 1) / BLOCK * BLOCK);
        }

        int size() {
            return channels * stride;
        }
    }

    private final float inputScale;
    private final int inputZeroPoint;
    private final Layout inputLayout;
    private final List<Step> steps;
    /** Each thread's buffers: [0] the centred input, [l + 1] the output of layer l; then each step's own. */
    private final ThreadLocal<float[][]> work;

    private SimdInference(Int8Model model, Layout inputLayout, List<Step> steps) {
        this.inputScale = model.inputScale();
        this.inputZeroPoint = model.inputZeroPoint();
        this.inputLayout = inputLayout;
        this.steps = List.copyOf(steps);
        this.work = ThreadLocal.withInitial(this::buffers);
    }

    private float[][] buffers() {
        float[][] b = new float[steps.size() + 1][];
        b[0] = new float[inputLayout.size()];
        for (int s = 0; s < steps.size(); s++) {
            b[s + 1] = new float[steps.get(s).out.size()];
        }
        return b;
    }

    /** The SIMD inference of {@code model}, or null when it cannot give the scalar inference's results exactly. */
    static Int8Model.Engine plan(Int8Model model) {
        List<Layer> layers = model.layers();
        Layer first = layers.get(0);
        Layout layout;
        if (first instanceof ConvLayer c) {
            layout = Layout.of(c.channels(), c.height() * c.width());
        } else if (first instanceof DepthwiseConvLayer d) {
            layout = Layout.of(d.channels(), d.height() * d.width());
        } else if (first instanceof MaxPoolLayer p) {
            layout = Layout.of(p.channels(), p.height() * p.width());
        } else if (first instanceof AvgPoolLayer p) {
            layout = Layout.of(p.channels(), p.height() * p.width());
        } else {
            return null;   // a dense model: the scalar inference skips zero inputs and is fast already
        }
        Layout inputLayout = layout;
        List<Layout> entering = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        float scale = model.inputScale();
        int zero = model.inputZeroPoint();
        float[] keptScale = new float[layers.size()];
        boolean dense = false;
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            entering.add(layout);
            keptScale[l] = scale;
            Step step;
            if (layer instanceof ConvLayer c) {
                step = dense ? null : Conv.of(c, layout, scale);
            } else if (layer instanceof DepthwiseConvLayer d) {
                step = dense ? null : Depthwise.of(d, layout, scale);
            } else if (layer instanceof MaxPoolLayer p) {
                step = dense ? null : MaxPool.of(p, layout);
            } else if (layer instanceof AvgPoolLayer p) {
                step = dense ? null : AvgPool.of(p, layout, zero);
            } else if (layer instanceof ResidualAddLayer r) {
                step = Add.of(r, layout, entering.get(r.start()), r.start(), scale, keptScale[r.start()]);
            } else {
                dense = true;
                step = Dense.of((DenseLayer) layer, model.inputMajor(l), layout, scale, l == layers.size() - 1);
            }
            if (step == null) {
                return null;
            }
            steps.add(step);
            layout = step.out;
            if (layer instanceof ConvLayer c) {
                scale = c.outputScale();
                zero = c.outputZeroPoint();
            } else if (layer instanceof DepthwiseConvLayer d) {
                scale = d.outputScale();
                zero = d.outputZeroPoint();
            } else if (layer instanceof ResidualAddLayer r) {
                scale = r.outputScale();
                zero = r.outputZeroPoint();
            } else if (layer instanceof DenseLayer d) {
                scale = d.outputScale();
                zero = d.outputZeroPoint();
            }
        }
        return new SimdInference(model, inputLayout, steps);
    }

    @Override
    public float[] logits(float[] features) {
        float[][] b = work.get();
        float[] x = b[0];
        int plane = inputLayout.plane;
        for (int c = 0; c < inputLayout.channels; c++) {
            for (int p = 0; p < plane; p++) {
                x[c * inputLayout.stride + p] = Int8Model.quantize(features[c * plane + p], inputScale, inputZeroPoint)
                        - inputZeroPoint;
            }
        }
        float[] logits = null;
        for (int s = 0; s < steps.size(); s++) {
            logits = steps.get(s).run(b, s);
        }
        return logits;
    }

    /** One layer: reads its input from buffer s, writes buffer s + 1; the last returns the logits. */
    private abstract static sealed class Step permits Conv, Depthwise, MaxPool, AvgPool, Add, Dense {
        final Layout out;
        /** Working arrays of this step for one thread (patch rows, bordered copies), made on first use. */
        private final ThreadLocal<float[][]> own;

        Step(Layout out, int[] ownLengths) {
            this.out = out;
            this.own = ThreadLocal.withInitial(() -> {
                float[][] a = new float[ownLengths.length][];
                for (int i = 0; i < a.length; i++) {
                    a[i] = new float[ownLengths[i]];
                }
                return a;
            });
        }

        float[][] own() {
            return own.get();
        }

        abstract float[] run(float[][] buffers, int s);
    }

    /** Requantisation's float operations on a vector of accumulators already multiplied by their factor. */
    private static FloatVector codes(FloatVector real, float outScale, float lo, float hi) {
        return real.div(outScale).max(lo).min(hi).add(ROUND).sub(ROUND);
    }

    /** True when |bias| + 255·Σ|w| < 2²⁴ for each of {@code count} filters of {@code k} weights. */
    private static boolean exact(byte[] weights, int[] bias, int count, int k) {
        for (int f = 0; f < count; f++) {
            double bound = Math.abs((double) bias[f]);
            for (int i = 0; i < k; i++) {
                bound += 255.0 * Math.abs(weights[f * k + i]);
            }
            if (bound >= EXACT) {
                return false;
            }
        }
        return true;
    }

    /** The rescale factors input scale × weight scale, or null when one of them, or the output scale, is not finite. */
    private static float[] factors(float scale, float[] weightScales, float outScale) {
        if (!(outScale > 0) || !Float.isFinite(outScale)) {
            return null;
        }
        float[] m = new float[weightScales.length];
        for (int f = 0; f < m.length; f++) {
            m[f] = scale * weightScales[f];
            if (!Float.isFinite(m[f])) {
                return null;
            }
        }
        return m;
    }

    private static float[] floats(byte[] b) {
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            f[i] = b[i];
        }
        return f;
    }

    private static float[] floats(int[] b) {
        float[] f = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            f[i] = b[i];
        }
        return f;
    }

    /**
     * Writes the patch rows of one channel (plane at {@code inBase} of {@code in}, h × w) into {@code col}: tap
     * (ky, kx)'s row at {@code first + (ky·kw + kx)·rowStride}, output (oy, ox) at oy·ow + ox of it. Only cells
     * inside the input are written; the others are the same for every call and channel and stay zero.
     */
    private static void gather(float[] in, int inBase, int h, int w, int kh, int kw, int sh, int sw, int pt, int pl,
                               int oh, int ow, float[] col, int first, int rowStride) {
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                int row = first + (ky * kw + kx) * rowStride;
                int lo = Math.max(0, -Math.floorDiv(kx - pl, sw));
                int hi = Math.min(ow - 1, Math.floorDiv(w - 1 + pl - kx, sw));
                if (hi < lo) {
                    continue;
                }
                for (int oy = 0; oy < oh; oy++) {
                    int iy = oy * sh - pt + ky;
                    if (iy < 0 || iy >= h) {
                        continue;
                    }
                    int src = inBase + iy * w - pl + kx;
                    int dst = row + oy * ow;
                    if (sw == 1) {
                        System.arraycopy(in, src + lo, col, dst + lo, hi - lo + 1);
                    } else {
                        for (int ox = lo; ox <= hi; ox++) {
                            col[dst + ox] = in[src + ox * sw];
                        }
                    }
                }
            }
        }
    }

    /** A convolution: a matrix product of its filters and the patch matrix, requantised in registers. */
    private static final class Conv extends Step {
        private final ConvLayer layer;
        private final Layout in;
        /** The input's planes are the patch rows (1×1, stride 1, no padding, the same size out). */
        private final boolean direct;
        private final int k;
        private final float[] weights;
        private final float[] bias;
        private final float[] factors;
        private final float lo;
        private final float hi;

        private Conv(ConvLayer c, Layout in, Layout out, boolean direct, float[] factors) {
            super(out, direct ? new int[0] : new int[] {c.channels() * c.kernelH() * c.kernelW() * out.stride});
            this.layer = c;
            this.in = in;
            this.direct = direct;
            this.k = c.channels() * c.kernelH() * c.kernelW();
            this.weights = floats(c.weights());
            this.bias = floats(c.bias());
            this.factors = factors;
            this.lo = c.activation() == DenseLayer.Activation.RELU ? 0 : -c.outputZeroPoint();
            this.hi = 255 - c.outputZeroPoint();
        }

        static Conv of(ConvLayer c, Layout in, float scale) {
            float[] factors = factors(scale, c.weightScales(), c.outputScale());
            if (factors == null || in.channels != c.channels() || in.plane != c.height() * c.width()
                    || !exact(c.weights(), c.bias(), c.filters(), c.channels() * c.kernelH() * c.kernelW())) {
                return null;
            }
            boolean direct = c.kernelH() == 1 && c.kernelW() == 1 && c.strideH() == 1 && c.strideW() == 1
                    && c.padTop() == 0 && c.padLeft() == 0 && c.outHeight() == c.height() && c.outWidth() == c.width();
            return new Conv(c, in, Layout.of(c.filters(), c.outHeight() * c.outWidth()), direct, factors);
        }

        @Override
        float[] run(float[][] buffers, int s) {
            float[] x = buffers[s];
            float[] col;
            if (direct) {
                col = x;
            } else {
                col = own()[0];
                ConvLayer c = layer;
                int taps = c.kernelH() * c.kernelW();
                for (int ch = 0; ch < c.channels(); ch++) {
                    gather(x, ch * in.stride, c.height(), c.width(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(),
                            c.padTop(), c.padLeft(), c.outHeight(), c.outWidth(), col, ch * taps * out.stride, out.stride);
                }
            }
            product(col, buffers[s + 1]);
            return null;
        }

        /**
         * out[f·n + p] = codes(factor_f · (bias_f + Σ_i W[f][i]·col[i·n + p])), n = out.stride: the sums by blocks
         * of four filters and two vectors of positions, then requantised filter by filter. (Small methods: C2
         * compiles the Vector API's operations to single instructions only in methods it inlines completely.)
         */
        private void product(float[] col, float[] y) {
            int n = out.stride;
            int filters = layer.filters();
            int f = 0;
            for (; f + 4 <= filters; f += 4) {
                for (int p = 0; p < n; p += BLOCK) {
                    sums4(col, y, f, p, n);
                }
            }
            for (; f < filters; f++) {
                for (int p = 0; p < n; p += BLOCK) {
                    sums1(col, y, f, p, n);
                }
            }
            for (f = 0; f < filters; f++) {
                requantise(y, f * n, n, factors[f], layer.outputScale(), lo, hi);
            }
        }

        /** The sums of filters f..f+3 at positions p ..< p + BLOCK, into y. */
        private void sums4(float[] col, float[] y, int f, int p, int n) {
            int w0 = f * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
            FloatVector a0 = FloatVector.broadcast(S, bias[f]), b0 = a0;
            FloatVector a1 = FloatVector.broadcast(S, bias[f + 1]), b1 = a1;
            FloatVector a2 = FloatVector.broadcast(S, bias[f + 2]), b2 = a2;
            FloatVector a3 = FloatVector.broadcast(S, bias[f + 3]), b3 = a3;
            for (int i = 0; i < k; i++) {
                FloatVector x0 = FloatVector.fromArray(S, col, i * n + p);
                FloatVector x1 = FloatVector.fromArray(S, col, i * n + p + L);
                FloatVector v0 = FloatVector.broadcast(S, weights[w0 + i]);
                FloatVector v1 = FloatVector.broadcast(S, weights[w1 + i]);
                FloatVector v2 = FloatVector.broadcast(S, weights[w2 + i]);
                FloatVector v3 = FloatVector.broadcast(S, weights[w3 + i]);
                a0 = x0.mul(v0).add(a0);
                b0 = x1.mul(v0).add(b0);
                a1 = x0.mul(v1).add(a1);
                b1 = x1.mul(v1).add(b1);
                a2 = x0.mul(v2).add(a2);
                b2 = x1.mul(v2).add(b2);
                a3 = x0.mul(v3).add(a3);
                b3 = x1.mul(v3).add(b3);
            }
            a0.intoArray(y, f * n + p);
            b0.intoArray(y, f * n + p + L);
            a1.intoArray(y, (f + 1) * n + p);
            b1.intoArray(y, (f + 1) * n + p + L);
            a2.intoArray(y, (f + 2) * n + p);
            b2.intoArray(y, (f + 2) * n + p + L);
            a3.intoArray(y, (f + 3) * n + p);
            b3.intoArray(y, (f + 3) * n + p + L);
        }

        /** The sums of filter f at positions p ..< p + BLOCK, into y. */
        private void sums1(float[] col, float[] y, int f, int p, int n) {
            int w0 = f * k;
            FloatVector a0 = FloatVector.broadcast(S, bias[f]), b0 = a0;
            for (int i = 0; i < k; i++) {
                FloatVector v0 = FloatVector.broadcast(S, weights[w0 + i]);
                a0 = FloatVector.fromArray(S, col, i * n + p).mul(v0).add(a0);
                b0 = FloatVector.fromArray(S, col, i * n + p + L).mul(v0).add(b0);
            }
            a0.intoArray(y, f * n + p);
            b0.intoArray(y, f * n + p + L);
        }
    }

    /** y[at ..< at + n] = codes(m · y[...]) (n a whole number of vectors). */
    private static void requantise(float[] y, int at, int n, float m, float outScale, float lo, float hi) {
        for (int p = 0; p < n; p += L) {
            codes(FloatVector.fromArray(S, y, at + p).mul(m), outScale, lo, hi).intoArray(y, at + p);
        }
    }

    /**
     * A depthwise convolution. When it keeps the map's size with stride 1, tap (ky, kx) of output p = y·w + x is
     * the value at p + (ky − padTop)·w + (kx − padLeft) of the channel's plane laid out with zero rows above and
     * below; the one copy per kernel column has zeros in the columns a shift by kx − padLeft would wrap into
     * from the neighbouring row. Otherwise the channel's patch rows are gathered.
     */
    private static final class Depthwise extends Step {
        private final DepthwiseConvLayer layer;
        private final Layout in;
        private final boolean shifted;
        /** Zeros before the plane in each bordered copy: padTop·w + padLeft. */
        private final int lead;
        /** Per tap (ky·kernelW + kx) of the shifted layout: the bordered copy it reads (kx), and where output 0 reads. */
        private final int[] tapCopy;
        private final int[] tapShift;
        private final float[] weights;
        private final float[] bias;
        private final float[] factors;
        private final float lo;
        private final float hi;

        private Depthwise(DepthwiseConvLayer d, Layout in, Layout out, boolean shifted, float[] factors, int[] own) {
            super(out, own);
            this.layer = d;
            this.in = in;
            this.shifted = shifted;
            this.lead = d.padTop() * d.width() + d.padLeft();
            int taps = d.kernelH() * d.kernelW();
            this.tapCopy = new int[taps];
            this.tapShift = new int[taps];
            for (int ky = 0; ky < d.kernelH(); ky++) {
                for (int kx = 0; kx < d.kernelW(); kx++) {
                    tapCopy[ky * d.kernelW() + kx] = kx;
                    tapShift[ky * d.kernelW() + kx] = lead + (ky - d.padTop()) * d.width() - d.padLeft() + kx;
                }
            }
            this.weights = floats(d.weights());
            this.bias = floats(d.bias());
            this.factors = factors;
            this.lo = d.activation() == DenseLayer.Activation.RELU ? 0 : -d.outputZeroPoint();
            this.hi = 255 - d.outputZeroPoint();
        }

        static Depthwise of(DepthwiseConvLayer d, Layout in, float scale) {
            float[] factors = factors(scale, d.weightScales(), d.outputScale());
            int taps = d.kernelH() * d.kernelW();
            if (factors == null || in.channels != d.channels() || in.plane != d.height() * d.width()
                    || !exact(d.weights(), d.bias(), d.channels(), taps)) {
                return null;
            }
            Layout out = Layout.of(d.channels(), d.outHeight() * d.outWidth());
            boolean shifted = d.strideH() == 1 && d.strideW() == 1 && d.outHeight() == d.height()
                    && d.outWidth() == d.width();
            int[] own;
            if (shifted) {
                int w = d.width();
                int length = d.padTop() * w + d.padLeft() + out.stride + (d.kernelH() - 1 - d.padTop()) * w
                        + d.kernelW() - d.padLeft();
                own = new int[d.kernelW()];
                java.util.Arrays.fill(own, length);
            } else {
                own = new int[] {taps * out.stride};
            }
            return new Depthwise(d, in, out, shifted, factors, own);
        }

        @Override
        float[] run(float[][] buffers, int s) {
            float[] x = buffers[s];
            float[] y = buffers[s + 1];
            DepthwiseConvLayer d = layer;
            int h = d.height(), w = d.width(), kh = d.kernelH(), kw = d.kernelW();
            float[][] own = own();
            float outScale = d.outputScale();
            for (int c = 0; c < d.channels(); c++) {
                int at = c * out.stride;
                float m = factors[c];
                if (shifted) {
                    for (int kx = 0; kx < kw; kx++) {
                        float[] copy = own[kx];
                        System.arraycopy(x, c * in.stride, copy, lead, h * w);
                        int dx = kx - d.padLeft();
                        // zero the columns that the shift would wrap into from the next or previous row
                        int from = dx < 0 ? w + dx : 0, to = dx < 0 ? w : Math.min(dx, w);
                        for (int row = 0; row < h && from < to; row++) {
                            for (int col = Math.max(from, 0); col < to; col++) {
                                copy[lead + row * w + col] = 0;
                            }
                        }
                    }
                    if (kh == 3 && kw == 3) {
                        shiftedSums3x3(own, c, y, at);
                    } else {
                        shiftedSums(own, c, y, at);
                    }
                    requantise(y, at, out.stride, m, outScale, lo, hi);
                } else {
                    float[] rows = own[0];
                    gather(x, c * in.stride, h, w, kh, kw, d.strideH(), d.strideW(), d.padTop(), d.padLeft(),
                            d.outHeight(), d.outWidth(), rows, 0, out.stride);
                    gatheredSums(rows, c, y, at);
                    requantise(y, at, out.stride, m, outScale, lo, hi);
                }
            }
            return null;
        }

        /**
         * Channel c's sums into y at {@code at}, from its bordered copies (one per kernel column): tap t reads
         * copy {@link #tapCopy}[t] from {@link #tapShift}[t] + p on. (One loop over the taps: with the taps in
         * two nested loops, C2 kept the sum in a heap object.)
         */
        private void shiftedSums(float[][] copies, int c, float[] y, int at) {
            int taps = tapCopy.length;
            int base = c * taps;
            for (int p = 0; p < out.stride; p += L) {
                FloatVector a = FloatVector.broadcast(S, bias[c]);
                for (int t = 0; t < taps; t++) {
                    FloatVector v = FloatVector.broadcast(S, weights[base + t]);
                    a = FloatVector.fromArray(S, copies[tapCopy[t]], tapShift[t] + p).mul(v).add(a);
                }
                a.intoArray(y, at + p);
            }
        }

        /** {@link #shiftedSums} for the 3×3 kernel, its nine taps and weights held in registers. */
        private void shiftedSums3x3(float[][] copies, int c, float[] y, int at) {
            float[] left = copies[0], mid = copies[1], right = copies[2];
            int base = c * 9;
            FloatVector w0 = FloatVector.broadcast(S, weights[base]), w1 = FloatVector.broadcast(S, weights[base + 1]);
            FloatVector w2 = FloatVector.broadcast(S, weights[base + 2]), w3 = FloatVector.broadcast(S, weights[base + 3]);
            FloatVector w4 = FloatVector.broadcast(S, weights[base + 4]), w5 = FloatVector.broadcast(S, weights[base + 5]);
            FloatVector w6 = FloatVector.broadcast(S, weights[base + 6]), w7 = FloatVector.broadcast(S, weights[base + 7]);
            FloatVector w8 = FloatVector.broadcast(S, weights[base + 8]);
            FloatVector b = FloatVector.broadcast(S, bias[c]);
            int s0 = tapShift[0], s3 = tapShift[3], s6 = tapShift[6];   // column 0 of each kernel row
            for (int p = 0; p < out.stride; p += L) {
                FloatVector a = FloatVector.fromArray(S, left, s0 + p).mul(w0).add(b);
                a = FloatVector.fromArray(S, mid, s0 + 1 + p).mul(w1).add(a);
                a = FloatVector.fromArray(S, right, s0 + 2 + p).mul(w2).add(a);
                a = FloatVector.fromArray(S, left, s3 + p).mul(w3).add(a);
                a = FloatVector.fromArray(S, mid, s3 + 1 + p).mul(w4).add(a);
                a = FloatVector.fromArray(S, right, s3 + 2 + p).mul(w5).add(a);
                a = FloatVector.fromArray(S, left, s6 + p).mul(w6).add(a);
                a = FloatVector.fromArray(S, mid, s6 + 1 + p).mul(w7).add(a);
                a = FloatVector.fromArray(S, right, s6 + 2 + p).mul(w8).add(a);
                a.intoArray(y, at + p);
            }
        }

        /** Channel c's sums into y at {@code at}, from its gathered patch rows. */
        private void gatheredSums(float[] rows, int c, float[] y, int at) {
            int taps = layer.kernelH() * layer.kernelW();
            int base = c * taps;
            for (int p = 0; p < out.stride; p += L) {
                FloatVector a = FloatVector.broadcast(S, bias[c]);
                for (int t = 0; t < taps; t++) {
                    FloatVector v = FloatVector.broadcast(S, weights[base + t]);
                    a = FloatVector.fromArray(S, rows, t * out.stride + p).mul(v).add(a);
                }
                a.intoArray(y, at + p);
            }
        }
    }

    /** Max pooling of centred codes (the same zero point throughout, so the largest centred code is the largest code). */
    private static final class MaxPool extends Step {
        private final MaxPoolLayer layer;
        private final Layout in;

        private MaxPool(MaxPoolLayer p, Layout in, Layout out) {
            super(out, new int[0]);
            this.layer = p;
            this.in = in;
        }

        static MaxPool of(MaxPoolLayer p, Layout in) {
            if (in.channels != p.channels() || in.plane != p.height() * p.width()) {
                return null;
            }
            return new MaxPool(p, in, Layout.of(p.channels(), p.outHeight() * p.outWidth()));
        }

        @Override
        float[] run(float[][] buffers, int s) {
            float[] x = buffers[s];
            float[] y = buffers[s + 1];
            MaxPoolLayer p = layer;
            int h = p.height(), w = p.width();
            if (p.kernelH() == 2 && p.kernelW() == 2 && p.strideH() == 2 && p.strideW() == 2 && p.padTop() == 0
                    && p.padLeft() == 0 && h % 2 == 0 && w % 2 == 0) {
                pool2x2(x, y);
                return null;
            }
            for (int c = 0; c < p.channels(); c++) {
                int inBase = c * in.stride;
                int outBase = c * out.stride;
                for (int oy = 0; oy < p.outHeight(); oy++) {
                    for (int ox = 0; ox < p.outWidth(); ox++) {
                        float best = Float.NEGATIVE_INFINITY;
                        for (int ky = 0; ky < p.kernelH(); ky++) {
                            int iy = oy * p.strideH() - p.padTop() + ky;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < p.kernelW(); kx++) {
                                int ix = ox * p.strideW() - p.padLeft() + kx;
                                if (ix >= 0 && ix < w) {
                                    best = Math.max(best, x[inBase + iy * w + ix]);
                                }
                            }
                        }
                        y[outBase + oy * p.outWidth() + ox] = best;
                    }
                }
            }
            return null;
        }

        /** The 2×2 window with stride 2 and no padding over a map of even height and width. */
        private void pool2x2(float[] x, float[] y) {
            int w = layer.width(), ow = layer.outWidth();
            for (int c = 0; c < layer.channels(); c++) {
                for (int oy = 0; oy < layer.outHeight(); oy++) {
                    int top = c * in.stride + 2 * oy * w;
                    int o = c * out.stride + oy * ow;
                    for (int ox = 0; ox < ow; ox++) {
                        int i = top + 2 * ox;
                        y[o + ox] = Math.max(Math.max(x[i], x[i + 1]), Math.max(x[i + w], x[i + w + 1]));
                    }
                }
            }
        }
    }

    /** Average pooling: each window's centred codes summed (exactly, in floats), divided in double and rounded. */
    private static final class AvgPool extends Step {
        private final AvgPoolLayer layer;
        private final Layout in;
        private final int zero;

        private AvgPool(AvgPoolLayer p, Layout in, Layout out, int zero) {
            super(out, new int[0]);
            this.layer = p;
            this.in = in;
            this.zero = zero;
        }

        static AvgPool of(AvgPoolLayer p, Layout in, int zero) {
            if (in.channels != p.channels() || in.plane != p.height() * p.width()
                    || 255.0 * p.kernelH() * p.kernelW() >= EXACT) {
                return null;
            }
            return new AvgPool(p, in, Layout.of(p.channels(), p.outHeight() * p.outWidth()), zero);
        }

        @Override
        float[] run(float[][] buffers, int s) {
            float[] x = buffers[s];
            float[] y = buffers[s + 1];
            AvgPoolLayer p = layer;
            double count = p.kernelH() * p.kernelW();
            boolean global = p.outHeight() == 1 && p.outWidth() == 1 && p.kernelH() == p.height()
                    && p.kernelW() == p.width();
            for (int c = 0; c < p.channels(); c++) {
                int inBase = c * in.stride;
                for (int oy = 0; oy < p.outHeight(); oy++) {
                    for (int ox = 0; ox < p.outWidth(); ox++) {
                        float sum;
                        if (global) {
                            sum = sum(x, inBase, in.plane);
                        } else {
                            sum = 0;
                            for (int ky = 0; ky < p.kernelH(); ky++) {
                                int row = inBase + (oy * p.strideH() + ky) * p.width() + ox * p.strideW();
                                for (int kx = 0; kx < p.kernelW(); kx++) {
                                    sum += x[row + kx];
                                }
                            }
                        }
                        double mean = Math.rint(sum / count);
                        y[c * out.stride + oy * p.outWidth() + ox] = (float) Math.max(-zero, Math.min(255 - zero, mean));
                    }
                }
            }
            return null;
        }

        /** Σ x[from ..< from + n], exactly (whole numbers below 2²⁴ in magnitude). */
        private static float sum(float[] x, int from, int n) {
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            for (; i + L <= n; i += L) {
                acc = acc.add(FloatVector.fromArray(S, x, from + i));
            }
            float sum = acc.reduceLanes(VectorOperators.ADD);
            for (; i < n; i++) {
                sum += x[from + i];
            }
            return sum;
        }
    }

    /** The add ending a residual block, over the whole (same) layout of both inputs. */
    private static final class Add extends Step {
        private final int skip;
        private final float scale;
        private final float skipScale;
        private final float outScale;
        private final float lo;
        private final float hi;

        private Add(Layout out, int skip, float scale, float skipScale, ResidualAddLayer r) {
            super(out, new int[0]);
            this.skip = skip;
            this.scale = scale;
            this.skipScale = skipScale;
            this.outScale = r.outputScale();
            this.lo = r.activation() == DenseLayer.Activation.RELU ? 0 : -r.outputZeroPoint();
            this.hi = 255 - r.outputZeroPoint();
        }

        static Add of(ResidualAddLayer r, Layout in, Layout skipLayout, int start, float scale, float skipScale) {
            if (!in.equals(skipLayout) || !Float.isFinite(255f * scale) || !Float.isFinite(255f * skipScale)
                    || !(r.outputScale() > 0) || !Float.isFinite(r.outputScale())) {
                return null;
            }
            return new Add(in, start, scale, skipScale, r);
        }

        @Override
        float[] run(float[][] buffers, int s) {
            float[] x = buffers[s];
            float[] k = buffers[skip];
            float[] y = buffers[s + 1];
            for (int i = 0; i < y.length; i += L) {
                FloatVector real = FloatVector.fromArray(S, x, i).mul(scale)
                        .add(FloatVector.fromArray(S, k, i).mul(skipScale));
                codes(real, outScale, lo, hi).intoArray(y, i);
            }
            return null;
        }
    }

    /**
     * A dense layer: its inputs gathered into one row of ints (the centred codes are whole numbers), summed by
     * {@link Int8Model#denseSums} in int32 as the scalar inference sums them, so no bound applies.
     */
    private static final class Dense extends Step {
        private final DenseLayer layer;
        private final Layout in;
        private final boolean last;
        /** The model's input-major copy of the weights. */
        private final byte[] inputMajor;
        private final float[] factors;
        /** Each thread's input row. */
        private final ThreadLocal<int[]> row;

        private Dense(DenseLayer d, byte[] inputMajor, Layout in, Layout out, boolean last, float[] factors) {
            super(out, new int[0]);
            this.layer = d;
            this.in = in;
            this.last = last;
            this.inputMajor = inputMajor;
            this.factors = factors;
            this.row = ThreadLocal.withInitial(() -> new int[d.in()]);
        }

        static Dense of(DenseLayer d, byte[] inputMajor, Layout in, float scale, boolean last) {
            if (in.channels * in.plane != d.in()) {
                return null;
            }
            float[] factors = new float[d.out()];
            for (int j = 0; j < factors.length; j++) {
                factors[j] = scale * d.weightScales()[j];
            }
            return new Dense(d, inputMajor, in, Layout.of(d.out(), 1), last, factors);
        }

        @Override
        float[] run(float[][] buffers, int s) {
            float[] x = buffers[s];
            int[] centred = row.get();
            for (int c = 0; c < in.channels; c++) {
                for (int p = 0; p < in.plane; p++) {
                    centred[c * in.plane + p] = (int) x[c * in.stride + p];
                }
            }
            int outs = layer.out();
            int[] acc = Int8Model.denseSums(layer, inputMajor, centred, 0);
            boolean relu = layer.activation() == DenseLayer.Activation.RELU;
            float[] logits = last ? new float[outs] : null;
            float[] y = buffers[s + 1];
            for (int j = 0; j < outs; j++) {
                float real = acc[j] * factors[j];
                if (relu && real < 0) {
                    real = 0;
                }
                if (last) {
                    logits[j] = real;
                } else {
                    y[j * out.stride] = Int8Model.quantize(real, layer.outputScale(), layer.outputZeroPoint())
                            - layer.outputZeroPoint();
                }
            }
            return logits;
        }
    }
}
