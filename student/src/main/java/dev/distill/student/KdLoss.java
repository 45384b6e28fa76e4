package dev.distill.student;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The knowledge-distillation loss of Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
 * Network" (2015). With student logits z, teacher logits t, temperature T, weight α and hard label y:
 *
 * <pre>
 *   L = α · T² · KL(softmax(t/T) ‖ softmax(z/T)) + (1 − α) · CE(softmax(z), y)
 *   ∂L/∂z = α · T · (softmax(z/T) − softmax(t/T)) + (1 − α) · (softmax(z) − onehot(y))
 * </pre>
 *
 * The T² factor keeps the soft term's gradient magnitude independent of T. A row without a hard label is
 * trained on the soft term alone, with weight 1: {@code L = T² · KL(...)}. With α = 0 this is plain
 * cross-entropy on hard labels, which is how teachers and hard-label baselines are trained.
 *
 * <p>Top-k soft labels ({@code kd.soft-labels.store = top-k}) keep only the teacher's k largest logits and
 * {@code logsumexp} of all C; the reader rebuilds t before it reaches this loss (see {@code TopK.expand}):
 * the k logits in place and the probability mass outside them, {@code m = 1 − Σ_topk exp(t_i − logsumexp)},
 * spread evenly over the other C − k classes, each getting {@code logsumexp + log(m / (C − k))}. So
 * softmax(t) at T = 1 equals the teacher's distribution on the top k and in total tail mass exactly; at
 * other temperatures the tail is treated as uniform (its exact shape is not stored). The loss itself then
 * runs on C classes as usual — the student's output has C classes in any case.
 *
 * <p>The network's output layer must use the identity activation (its output is the logits z). Labels are
 * packed per row by {@link #packLabels} as {@code [t_1..t_C, onehot_1..onehot_C, hasLabel]}, width 2C + 1.
 * Scores are per-example sums over classes; DL4J divides gradients by the minibatch size itself.
 */
public final class KdLoss implements ILossFunction {
    private static final long serialVersionUID = 1L;

    @JsonProperty("temperature")
    private double temperature;
    @JsonProperty("alpha")
    private double alpha;

    /** For JSON deserialisation of a saved network configuration. */
    public KdLoss() {
        this(1.0, 0.0);
    }

    public KdLoss(double temperature, double alpha) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        this.temperature = temperature;
        this.alpha = alpha;
    }

    public double temperature() {
        return temperature;
    }

    public double alpha() {
        return alpha;
    }

    /** Width of a packed label row for {@code numClasses} classes. */
    public static int labelWidth(int numClasses) {
        return 2 * numClasses + 1;
    }

    /**
     * Packs one row's targets into {@code dst} at {@code offset}: teacher logits (zeros when null), the
     * one-hot hard label (zeros when null) and a has-label flag.
     */
    public static void packLabels(float[] teacherLogits, Integer label, int numClasses, float[] dst, int offset) {
        if (teacherLogits != null) {
            System.arraycopy(teacherLogits, 0, dst, offset, numClasses);
        } else {
            java.util.Arrays.fill(dst, offset, offset + numClasses, 0f);
        }
        java.util.Arrays.fill(dst, offset + numClasses, offset + 2 * numClasses + 1, 0f);
        if (label != null) {
            dst[offset + numClasses + label] = 1f;
            dst[offset + 2 * numClasses] = 1f;
        }
    }

    /** As {@link #lossAndGradient(float[], float[], int, int, float[])} on row arrays (for tests and callers with rows). */
    double[] lossAndGradient(float[][] z, float[][] packed, float[][] grad) {
        int b = z.length;
        int c = z[0].length;
        int w = packed[0].length;
        float[] zf = new float[b * c];
        float[] pf = new float[b * w];
        for (int i = 0; i < b; i++) {
            System.arraycopy(z[i], 0, zf, i * c, c);
            System.arraycopy(packed[i], 0, pf, i * w, w);
        }
        float[] g = grad == null ? null : new float[b * c];
        double[] loss = lossAndGradient(zf, pf, b, c, g);
        if (grad != null) {
            for (int i = 0; i < b; i++) {
                System.arraycopy(g, i * c, grad[i], 0, c);
            }
        }
        return loss;
    }

    /**
     * Per-example losses and, when {@code grad} is non-null, ∂L/∂z into it. All arrays are flat and
     * row-major: {@code z} is b × c logits, {@code packed} is b × (2c + 1) packed labels.
     */
    double[] lossAndGradient(float[] z, float[] packed, int b, int c, float[] grad) {
        int w = packed.length / b;
        if (w != labelWidth(c)) {
            throw new IllegalArgumentException("KD labels have width " + w + " but the network has "
                    + c + " outputs; expected width " + labelWidth(c) + " = 2 * classes + 1");
        }
        double[] loss = new double[b];
        double[] zs = new double[c];
        double[] ts = new double[c];
        double invT = 1.0 / temperature;
        for (int i = 0; i < b; i++) {
            int zo = i * c;
            int lo = i * w;
            boolean hasLabel = packed[lo + 2 * c] > 0.5f;
            double wSoft = hasLabel ? alpha : 1.0;
            double wHard = hasLabel ? 1.0 - alpha : 0.0;
            double l = 0;
            if (grad != null) {
                java.util.Arrays.fill(grad, zo, zo + c, 0f);
            }
            if (wSoft > 0) {
                for (int k = 0; k < c; k++) {
                    zs[k] = z[zo + k] * invT;
                    ts[k] = packed[lo + k] * invT;
                }
                double lseZ = logSumExp(zs);
                double lseT = logSumExp(ts);
                double kl = 0;
                for (int k = 0; k < c; k++) {
                    double logP = ts[k] - lseT;
                    double logQ = zs[k] - lseZ;
                    double p = Math.exp(logP);
                    kl += p * (logP - logQ);
                    if (grad != null) {
                        grad[zo + k] = (float) (wSoft * temperature * (Math.exp(logQ) - p));
                    }
                }
                l += wSoft * temperature * temperature * kl;
            }
            if (wHard > 0) {
                for (int k = 0; k < c; k++) {
                    zs[k] = z[zo + k];
                }
                double lse = logSumExp(zs);
                for (int k = 0; k < c; k++) {
                    double y = packed[lo + c + k];
                    double logQ = zs[k] - lse;
                    l -= wHard * y * logQ;
                    if (grad != null) {
                        grad[zo + k] += (float) (wHard * (Math.exp(logQ) - y));
                    }
                }
            }
            loss[i] = l;
        }
        return loss;
    }

    static double logSumExp(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double s = 0;
        for (double v : x) {
            s += Math.exp(v - max);
        }
        return max + Math.log(s);
    }

    private static float[] logits(INDArray preOutput, IActivation activationFn) {
        if (activationFn instanceof ActivationIdentity) {
            return FlatArrays.of(preOutput);
        }
        return FlatArrays.of(activationFn.getActivation(preOutput.dup(), true));
    }

    private static int rows(INDArray a) {
        return (int) a.size(0);
    }

    private static void applyMask(double[] loss, float[] grad, int c, INDArray mask) {
        if (mask == null) {
            return;
        }
        float[] m = FlatArrays.of(mask);
        for (int i = 0; i < loss.length; i++) {
            loss[i] *= m[i];
            if (grad != null) {
                for (int k = 0; k < c; k++) {
                    grad[i * c + k] *= m[i];
                }
            }
        }
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double[] loss = computeScores(labels, preOutput, activationFn, mask);
        double sum = 0;
        for (double l : loss) {
            sum += l;
        }
        return average ? sum / loss.length : sum;
    }

    private double[] computeScores(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        int b = rows(preOutput);
        int c = (int) preOutput.size(1);
        double[] loss = lossAndGradient(logits(preOutput, activationFn), FlatArrays.of(labels), b, c, null);
        applyMask(loss, null, c, mask);
        return loss;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        double[] loss = computeScores(labels, preOutput, activationFn, mask);
        return Nd4j.createFromArray(loss).castTo(preOutput.dataType()).reshape(loss.length, 1);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return computeGradientAndScore(labels, preOutput, activationFn, mask, false).getSecond();
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        int b = rows(preOutput);
        int c = (int) preOutput.size(1);
        float[] grad = new float[b * c];
        double[] loss = lossAndGradient(logits(preOutput, activationFn), FlatArrays.of(labels), b, c, grad);
        applyMask(loss, grad, c, mask);
        INDArray dLdOut = Nd4j.create(grad, new long[] {b, c}, 'c').castTo(preOutput.dataType());
        // Chain rule through the output activation; the identity of a KD student needs none.
        INDArray dLdPre = activationFn instanceof ActivationIdentity ? dLdOut
                : activationFn.backprop(preOutput.dup(), dLdOut).getFirst();
        double sum = 0;
        for (double l : loss) {
            sum += l;
        }
        return Pair.of(average ? sum / loss.length : sum, dLdPre);
    }

    @Override
    public String name() {
        return "KdLoss(T=" + temperature + ", alpha=" + alpha + ")";
    }

    @Override
    public String toString() {
        return name();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KdLoss k && k.temperature == temperature && k.alpha == alpha;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(temperature) * 31 + Double.hashCode(alpha);
    }
}
