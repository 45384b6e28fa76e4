package dev.distill.datasets;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Feature normalisation, fitted on the training split only and applied unchanged to every split (and,
 * later, by the deployed model): {@code none}; {@code scale}: x / scale-max (pixels 0..255 to [0, 1]);
 * {@code standardise}: (x − mean_j) / std_j per feature j, with std_j = 1 where a feature is constant;
 * {@code channels}: (x / scale-max − mean_c) / std_c per channel c of a [C, H, W] image (torchvision's
 * {@code Normalize} after {@code ToTensor}), mean and std given or fitted over every pixel of the training split.
 */
public final class Normalisation implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum Method { NONE, SCALE, STANDARDISE, CHANNELS }

    private final Method method;
    /** The divisor of method scale. */
    private final float scale;
    private final float[] mean;
    private final float[] invStd;

    /** The pixels per channel of method channels (height × width). */
    private final int plane;

    private Normalisation(Method method, float scale, float[] mean, float[] invStd) {
        this(method, scale, mean, invStd, 0);
    }

    private Normalisation(Method method, float scale, float[] mean, float[] invStd, int plane) {
        this.method = method;
        this.scale = scale;
        this.mean = mean;
        this.invStd = invStd;
        this.plane = plane;
    }

    /**
     * Per-channel standardisation of images of {@code plane} pixels per channel: (x / divisor − mean_c) / std_c.
     */
    public static Normalisation channels(double divisor, double[] mean, double[] std, int plane) {
        if (mean.length != std.length || mean.length == 0 || plane < 1) {
            throw new IllegalArgumentException("channels normalisation needs one mean and std per channel, got "
                    + mean.length + " and " + std.length);
        }
        float[] m = new float[mean.length];
        float[] inv = new float[mean.length];
        for (int c = 0; c < m.length; c++) {
            if (!(std[c] > 0)) {
                throw new IllegalArgumentException("the std of channel " + c + " is " + std[c] + "; it must be > 0");
            }
            m[c] = (float) mean[c];
            inv[c] = (float) (1.0 / std[c]);
        }
        return new Normalisation(Method.CHANNELS, (float) divisor, m, inv, plane);
    }

    /**
     * Per-channel standardisation fitted on sums over n images: Σ x/divisor and Σ (x/divisor)² per channel, over
     * every pixel; a constant channel keeps std 1.
     */
    public static Normalisation fitChannels(double divisor, double[] sum, double[] sumSquares, long n, int plane) {
        if (n < 1) {
            throw new IllegalArgumentException("cannot fit the channel statistics on an empty training split");
        }
        double[] mean = new double[sum.length];
        double[] std = new double[sum.length];
        double count = (double) n * plane;
        for (int c = 0; c < sum.length; c++) {
            mean[c] = sum[c] / count;
            double sd = Math.sqrt(Math.max(0, sumSquares[c] / count - mean[c] * mean[c]));
            std[c] = sd > 1e-8 ? sd : 1;
        }
        return channels(divisor, mean, std, plane);
    }

    public static Normalisation none() {
        return new Normalisation(Method.NONE, 1f, null, null);
    }

    public static Normalisation scale(double max) {
        return new Normalisation(Method.SCALE, (float) max, null, null);
    }

    /** From per-feature sums over n rows: Σx and Σx². */
    public static Normalisation standardise(double[] sum, double[] sumSquares, long n) {
        if (n < 1) {
            throw new IllegalArgumentException("cannot standardise from an empty training split");
        }
        float[] mean = new float[sum.length];
        float[] inv = new float[sum.length];
        for (int j = 0; j < sum.length; j++) {
            double m = sum[j] / n;
            double var = Math.max(0, sumSquares[j] / n - m * m);
            double std = Math.sqrt(var);
            mean[j] = (float) m;
            inv[j] = std > 1e-8 ? (float) (1.0 / std) : 1f;
        }
        return new Normalisation(Method.STANDARDISE, 1f, mean, inv);
    }

    public Method method() {
        return method;
    }

    /** Normalises {@code x} in place and returns it. */
    public float[] apply(float[] x) {
        switch (method) {
            case SCALE -> {
                for (int j = 0; j < x.length; j++) {
                    x[j] /= scale;
                }
            }
            case STANDARDISE -> {
                if (x.length != mean.length) {
                    throw new IllegalArgumentException("feature length " + x.length
                            + " differs from the " + mean.length + " features the standardisation was fitted on");
                }
                for (int j = 0; j < x.length; j++) {
                    x[j] = (x[j] - mean[j]) * invStd[j];
                }
            }
            case CHANNELS -> {
                if (x.length != mean.length * plane) {
                    throw new IllegalArgumentException("feature length " + x.length + " is not " + mean.length
                            + " channels of " + plane + " pixels");
                }
                for (int c = 0; c < mean.length; c++) {
                    float m = mean[c];
                    float k = invStd[c];
                    for (int j = c * plane; j < (c + 1) * plane; j++) {
                        x[j] = (x[j] / scale - m) * k;
                    }
                }
            }
            default -> {
            }
        }
        return x;
    }

    /** A short description for metadata, e.g. {@code scale(x/255.0)}. */
    public String describe() {
        return switch (method) {
            case NONE -> "none";
            case SCALE -> "scale(x/" + scale + ")";
            case STANDARDISE -> "standardise(" + mean.length + " features)";
            case CHANNELS -> "channels((x/" + scale + " - " + Arrays.toString(mean) + ") / " + Arrays.toString(std()) + ")";
        };
    }

    /** Everything needed to re-apply this normalisation elsewhere (provenance, deployed model). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("method", method.name().toLowerCase(java.util.Locale.ROOT));
        if (method == Method.SCALE) {
            m.put("divisor", scale);
        }
        if (method == Method.STANDARDISE) {
            m.put("mean", mean.clone());
            m.put("inv_std", invStd.clone());
        }
        if (method == Method.CHANNELS) {
            m.put("divisor", scale);
            m.put("mean", mean.clone());
            m.put("std", std());
        }
        return m;
    }

    /** The per-channel standard deviations of method channels. */
    private float[] std() {
        float[] s = new float[invStd.length];
        for (int c = 0; c < s.length; c++) {
            s[c] = 1f / invStd[c];
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalisation n && n.method == method && n.scale == scale && n.plane == plane
                && Arrays.equals(n.mean, mean) && Arrays.equals(n.invStd, invStd);
    }

    @Override
    public int hashCode() {
        return method.hashCode() * 31 + Float.hashCode(scale);
    }
}
