package dev.distill.student;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
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

    /** Per-example losses (column vector) and, when {@code grad} is non-null, ∂L/∂z into it (row-major B×C). */
    double[] lossAndGradient(float[][] z, float[][] packed, float[][] grad) {
        int b = z.length;
        int c = z[0].length;
        if (packed[0].length != labelWidth(c)) {
            throw new IllegalArgumentException("KD labels have width " + packed[0].length + " but the network has "
                    + c + " outputs; expected width " + labelWidth(c) + " = 2 * classes + 1");
        }
        double[] loss = new double[b];
        double[] zs = new double[c];
        double[] ts = new double[c];
        double invT = 1.0 / temperature;
        for (int i = 0; i < b; i++) {
            float[] zi = z[i];
            float[] li = packed[i];
            boolean hasLabel = li[2 * c] > 0.5f;
            double wSoft = hasLabel ? alpha : 1.0;
            double wHard = hasLabel ? 1.0 - alpha : 0.0;
            double l = 0;
            if (wSoft > 0) {
                for (int k = 0; k < c; k++) {
                    zs[k] = zi[k] * invT;
                    ts[k] = li[k] * invT;
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
                        grad[i][k] = (float) (wSoft * temperature * (Math.exp(logQ) - p));
                    }
                }
                l += wSoft * temperature * temperature * kl;
            } else if (grad != null) {
                java.util.Arrays.fill(grad[i], 0f);
            }
            if (wHard > 0) {
                for (int k = 0; k < c; k++) {
                    zs[k] = zi[k];
                }
                double lse = logSumExp(zs);
                for (int k = 0; k < c; k++) {
                    double y = li[c + k];
                    double logQ = zs[k] - lse;
                    l -= wHard * y * logQ;
                    if (grad != null) {
                        grad[i][k] += (float) (wHard * (Math.exp(logQ) - y));
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

    private static float[][] logits(INDArray preOutput, IActivation activationFn) {
        INDArray out = activationFn.getActivation(preOutput.dup(), true);
        return out.toFloatMatrix();
    }

    private static void applyMask(double[] loss, INDArray mask) {
        if (mask == null) {
            return;
        }
        float[] m = mask.reshape(mask.length()).toFloatVector();
        for (int i = 0; i < loss.length; i++) {
            loss[i] *= m[i];
        }
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
                               boolean average) {
        double[] loss = lossAndGradient(logits(preOutput, activationFn), labels.toFloatMatrix(), null);
        applyMask(loss, mask);
        double sum = 0;
        for (double l : loss) {
            sum += l;
        }
        return average ? sum / loss.length : sum;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        double[] loss = lossAndGradient(logits(preOutput, activationFn), labels.toFloatMatrix(), null);
        applyMask(loss, mask);
        return Nd4j.createFromArray(loss).castTo(preOutput.dataType()).reshape(loss.length, 1);
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        return computeGradientAndScore(labels, preOutput, activationFn, mask, false).getSecond();
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                          INDArray mask, boolean average) {
        float[][] z = logits(preOutput, activationFn);
        float[][] grad = new float[z.length][z[0].length];
        double[] loss = lossAndGradient(z, labels.toFloatMatrix(), grad);
        if (mask != null) {
            float[] m = mask.reshape(mask.length()).toFloatVector();
            for (int i = 0; i < grad.length; i++) {
                loss[i] *= m[i];
                for (int k = 0; k < grad[i].length; k++) {
                    grad[i][k] *= m[i];
                }
            }
        }
        INDArray dLdOut = Nd4j.create(grad).castTo(preOutput.dataType());
        // Chain rule through the output activation (identity for a KD student: a no-op).
        INDArray dLdPre = activationFn.backprop(preOutput.dup(), dLdOut).getFirst();
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
