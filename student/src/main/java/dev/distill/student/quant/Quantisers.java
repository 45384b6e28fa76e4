package dev.distill.student.quant;

/**
 * The quantisers of training and export, in one place so that the fake-quantised forward pass and the
 * int8 file compute the same numbers (Jacob et al., "Quantization and Training of Neural Networks for
 * Efficient Integer-Arithmetic-Only Inference", CVPR 2018).
 * <ul>
 *   <li>Weights: symmetric, per output channel, {@code b} bits: {@code s_j = max|W_j| / (2^(b−1) − 1)},
 *       {@code q = rint(W / s_j)} clamped to {@code ±(2^(b−1) − 1)} (the most negative code is not used, so
 *       the range is symmetric). A channel of zeros gets scale 1.</li>
 *   <li>Activations: asymmetric uint8 over a range {@code [lo, hi]} widened to contain 0, scale
 *       {@code (hi − lo) / 255}, zero point {@code rint(−lo / scale)}; {@code q = rint(a / scale) + zp}
 *       clamped to [0, 255]. Zero is exactly representable, so ReLU's zeros and padding stay exact.</li>
 * </ul>
 * Rounding is {@link Math#rint} (half to even) everywhere, as in the runtime.
 */
public final class Quantisers {
    private Quantisers() {
    }

    /** Largest weight code for {@code bits}: 127 for 8 bits, 7 for 4. */
    public static int maxCode(int bits) {
        if (bits < 2 || bits > 8) {
            throw new IllegalArgumentException("weight bits must be in [2, 8], got " + bits);
        }
        return (1 << (bits - 1)) - 1;
    }

    /** Per-channel codes and scales of a weight tensor. */
    public record Weights(byte[] codes, float[] scales) {
    }

    /**
     * Quantises a weight array whose output channel {@code j} is element {@code [i][j]} of a row-major
     * {@code [in, out]} matrix (dense layers). Codes are returned channel-major: {@code codes[j * in + i]}.
     */
    public static Weights perColumn(float[] w, int in, int out, int bits) {
        check(w, in, out);
        int max = maxCode(bits);
        byte[] codes = new byte[in * out];
        float[] scales = new float[out];
        for (int j = 0; j < out; j++) {
            float m = 0;
            for (int i = 0; i < in; i++) {
                m = Math.max(m, Math.abs(w[i * out + j]));
            }
            float s = m > 0 ? m / max : 1f;
            scales[j] = s;
            for (int i = 0; i < in; i++) {
                codes[j * in + i] = code(w[i * out + j], s, max);
            }
        }
        return new Weights(codes, scales);
    }

    /** As {@link #perColumn} for tensors whose channel {@code j} is the contiguous block {@code [j * per, (j + 1) * per)}. */
    public static Weights perBlock(float[] w, int channels, int bits) {
        int per = w.length / Math.max(1, channels);
        check(w, per, channels);
        int max = maxCode(bits);
        byte[] codes = new byte[w.length];
        float[] scales = new float[channels];
        for (int j = 0; j < channels; j++) {
            float m = 0;
            for (int i = j * per; i < (j + 1) * per; i++) {
                m = Math.max(m, Math.abs(w[i]));
            }
            float s = m > 0 ? m / max : 1f;
            scales[j] = s;
            for (int i = j * per; i < (j + 1) * per; i++) {
                codes[i] = code(w[i], s, max);
            }
        }
        return new Weights(codes, scales);
    }

    /** The dequantised weights of {@link #perColumn}, in the input's layout ({@code [in, out]} row-major). */
    public static float[] fakePerColumn(float[] w, int in, int out, int bits) {
        Weights q = perColumn(w, in, out, bits);
        float[] r = new float[w.length];
        for (int j = 0; j < out; j++) {
            for (int i = 0; i < in; i++) {
                r[i * out + j] = q.codes[j * in + i] * q.scales[j];
            }
        }
        return r;
    }

    /** The dequantised weights of {@link #perBlock}. */
    public static float[] fakePerBlock(float[] w, int channels, int bits) {
        Weights q = perBlock(w, channels, bits);
        int per = w.length / channels;
        float[] r = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            r[i] = q.codes[i] * q.scales[i / per];
        }
        return r;
    }

    private static byte code(float v, float s, int max) {
        return (byte) Math.max(-max, Math.min(max, Math.rint(v / s)));
    }

    private static void check(float[] w, int in, int out) {
        if ((long) in * out != w.length) {
            throw new IllegalArgumentException(w.length + " weights do not form " + out + " channels of " + in);
        }
    }

    /** A real-valued activation range, widened to contain 0 and to a width of at least 1e-8. */
    public record Range(float lo, float hi) {
        public Range {
            lo = Math.min(lo, 0f);
            hi = Math.max(hi, 0f);
            if (hi - lo < 1e-8f) {
                hi = lo + 1e-8f;
            }
        }

        public float scale() {
            return (hi - lo) / 255f;
        }

        /** rint(−lo · 255 / (hi − lo)), computed in double so that a symmetric range gets 128 exactly. */
        public int zeroPoint() {
            return (int) Math.max(0, Math.min(255, Math.rint(-(double) lo * 255.0 / ((double) hi - lo))));
        }

        /** The uint8 code of {@code a}. */
        public int code(float a) {
            return (int) Math.max(0, Math.min(255, Math.rint(a / scale()) + zeroPoint()));
        }

        /** {@code a} quantised and dequantised: what the next layer of the int8 model sees. */
        public float fake(float a) {
            return (code(a) - zeroPoint()) * scale();
        }
    }
}
