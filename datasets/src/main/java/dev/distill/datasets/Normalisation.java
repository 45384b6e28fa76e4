package dev.distill.datasets;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Feature normalisation, fitted on the training split only and applied unchanged to every split (and,
 * later, by the deployed model): {@code none}; {@code scale}: x / scale-max (pixels 0..255 to [0, 1]);
 * {@code standardise}: (x − mean_j) / std_j per feature j, with std_j = 1 where a feature is constant.
 */
public final class Normalisation implements Serializable {
    private static final long serialVersionUID = 1L;

    public enum Method { NONE, SCALE, STANDARDISE }

    private final Method method;
    /** The divisor of method scale. */
    private final float scale;
    private final float[] mean;
    private final float[] invStd;

    private Normalisation(Method method, float scale, float[] mean, float[] invStd) {
        this.method = method;
        this.scale = scale;
        this.mean = mean;
        this.invStd = invStd;
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
        return m;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalisation n && n.method == method && n.scale == scale
                && Arrays.equals(n.mean, mean) && Arrays.equals(n.invStd, invStd);
    }

    @Override
    public int hashCode() {
        return method.hashCode() * 31 + Float.hashCode(scale);
    }
}
