package dev.distill.datasets.softlabels;

import java.util.Arrays;

/**
 * A teacher's k largest logits (ties to the lower class), their classes in descending order of logit, and
 * {@code logsumexp} = log Σ_c exp(z_c) over all classes, from which the probability mass outside the top k
 * is known exactly: {@code 1 − Σ_topk exp(z_i − logsumexp)}.
 */
public record TopK(int[] index, float[] logit, float logSumExp) {

    public static TopK of(float[] z, int k) {
        int n = Math.min(k, z.length);
        Integer[] order = new Integer[z.length];
        for (int i = 0; i < z.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(z[b], z[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        int[] index = new int[n];
        float[] logit = new float[n];
        for (int i = 0; i < n; i++) {
            index[i] = order[i];
            logit[i] = z[order[i]];
        }
        double max = z.length == 0 ? 0 : z[order[0]];
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v - max);
        }
        return new TopK(index, logit, (float) (max + Math.log(sum)));
    }

    /**
     * Full logits for {@code numClasses} classes: the stored k where they belong, and the tail mass spread
     * evenly over the other classes (each gets log(tail / (C − k)) + logsumexp). The softmax at temperature 1
     * is then exact on the top k and in the total tail mass; at other temperatures the tail is taken as
     * uniform. With k = C it is the original.
     */
    public static float[] expand(int[] index, float[] logit, float logSumExp, int numClasses) {
        float[] z = new float[numClasses];
        expandInto(index, logit, 0, index.length, logSumExp, numClasses, z, 0);
        return z;
    }

    /**
     * {@link #expand} of the {@code k} classes and logits at {@code from} in {@code index} and {@code logit}, into
     * {@code out} at {@code at} (no allocation: the trainer rebuilds one stored view per row this way).
     */
    public static void expandInto(int[] index, float[] logit, int from, int k, float logSumExp, int numClasses,
                                  float[] out, int at) {
        int rest = numClasses - k;
        if (rest > 0) {
            double top = 0;
            for (int i = 0; i < k; i++) {
                top += Math.exp(logit[from + i] - logSumExp);
            }
            double tail = Math.max(1 - top, 1e-12);
            Arrays.fill(out, at, at + numClasses, (float) (logSumExp + Math.log(tail / rest)));
        }
        for (int i = 0; i < k; i++) {
            out[at + index[from + i]] = logit[from + i];
        }
    }
}
