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
        int rest = numClasses - index.length;
        if (rest > 0) {
            double top = 0;
            for (float v : logit) {
                top += Math.exp(v - logSumExp);
            }
            double tail = Math.max(1 - top, 1e-12);
            Arrays.fill(z, (float) (logSumExp + Math.log(tail / rest)));
        }
        for (int i = 0; i < index.length; i++) {
            z[index[i]] = logit[i];
        }
        return z;
    }
}
