package dev.distill.student.loss;

import dev.distill.student.FlatArrays;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * A distillation loss: a DL4J {@link ILossFunction} on an identity output layer (its output is the student's
 * logits z) that reads one {@link PackedTargets} row per example. A loss implements only
 * {@link #lossAndGradient} on flat row-major arrays; this class does the ND4J plumbing (masks, the chain rule
 * through a non-identity output activation, sums and averages) with bulk copies rather than per-row views
 * ({@code INDArray.toFloatMatrix()} made {@code fit()} 4-10x slower). Scores are per-example sums over
 * classes; DL4J divides gradients by the minibatch size itself.
 *
 * <p>A loss is saved in its network's configuration JSON (DL4J's Jackson, by class name), so its settings are
 * {@code @JsonProperty} fields and it has a no-argument constructor. New losses are registered in
 * {@link DistillationLosses}.
 */
public abstract class DistillationLoss implements ILossFunction {
    private static final long serialVersionUID = 1L;

    /**
     * Label smoothing ε of the hard-label term (Szegedy et al. 2016, "Rethinking the Inception Architecture",
     * §7): the one-hot target becomes {@code (1 − ε)·onehot(y) + ε/C}. 0 = none. Older saved networks have no
     * such property and load with 0.
     */
    @JsonProperty("label_smoothing")
    protected double labelSmoothing;

    /** ε of the hard-label term's label smoothing. */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * The weight of a row's teacher term: α for a row with a hard label, 1 for one without (it learns from the
     * teacher alone). {@link #labelWeight} is the hard term's: 1 − α, or 0 without a label.
     */
    protected static double teacherWeight(boolean hasLabel, double alpha) {
        return hasLabel ? alpha : 1.0;
    }

    /** The weight of a row's hard-label term: 1 − α with a hard label, 0 without. */
    protected static double labelWeight(boolean hasLabel, double alpha) {
        return hasLabel ? 1.0 - alpha : 0.0;
    }

    /** Checks the temperature and teacher weight every loss with a teacher term takes; for constructors. */
    protected static void checkTemperatureAndAlpha(double temperature, double alpha) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be > 0, got " + temperature);
        }
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
    }

    /**
     * The settings map of {@link #settings()}: temperature, alpha, then {@code more} as name/value pairs, then
     * the label smoothing when set.
     */
    protected Map<String, Object> settingsOf(double temperature, double alpha, Object... more) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("temperature", temperature);
        m.put("alpha", alpha);
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        if (labelSmoothing > 0) {
            m.put("label_smoothing", labelSmoothing);
        }
        return m;
    }

    /** Checks the two term weights of a loss named {@code loss} (DKD's, DIST's); for constructors. */
    protected static void checkWeights(String loss, double first, double second) {
        if (!(first >= 0) || !(second >= 0)) {
            throw new IllegalArgumentException(loss + " weights must be >= 0, got " + first + ", " + second);
        }
    }

    /** Checks and sets ε; for constructors. */
    protected final void setLabelSmoothing(double epsilon) {
        if (!(epsilon >= 0 && epsilon < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + epsilon);
        }
        this.labelSmoothing = epsilon;
    }

    /**
     * Per-example losses and, when {@code grad} is non-null, ∂L/∂z into it. All arrays are flat and row-major:
     * {@code z} is b × c logits, {@code packed} is b × (2c + 1) {@link PackedTargets} rows.
     */
    public abstract double[] lossAndGradient(float[] z, float[] packed, int b, int c, float[] grad);

    /** The loss's settings as they go into provenance (e.g. temperature and alpha). */
    public abstract Map<String, Object> settings();

    /** {@link #lossAndGradient(float[], float[], int, int, float[])} on row arrays (tests, small callers). */
    public double[] lossAndGradient(float[][] z, float[][] packed, float[][] grad) {
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

    /** The width of the packed rows, checked against c classes. */
    protected static int width(float[] packed, int b, int c) {
        int w = packed.length / b;
        if (w != PackedTargets.width(c)) {
            throw new IllegalArgumentException("distillation targets have width " + w + " but the network has "
                    + c + " outputs; expected width " + PackedTargets.width(c) + " = 2 * classes + 1");
        }
        return w;
    }

    /** log Σ exp(x), computed stably. */
    public static double logSumExp(double[] x) {
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

    /**
     * Adds {@code weight · CE(softmax(z), ỹ)} of row {@code zo} to the returned loss and {@code weight · (softmax(z)
     * − ỹ)} to {@code grad} (when non-null), where ỹ is the one-hot label at {@code packed[yo..yo+c)} smoothed by
     * {@link #labelSmoothing}: {@code ỹ = (1 − ε)·y + ε/C}. {@code zs} is scratch of length c.
     */
    protected final double hardTerm(float[] z, int zo, float[] packed, int yo, int c, double weight, float[] grad,
                                    double[] zs) {
        if (weight <= 0) {
            return 0;
        }
        for (int k = 0; k < c; k++) {
            zs[k] = z[zo + k];
        }
        double lse = logSumExp(zs);
        double eps = labelSmoothing;
        double l = 0;
        for (int k = 0; k < c; k++) {
            double y = (1 - eps) * packed[yo + k] + eps / c;
            double logQ = zs[k] - lse;
            l -= weight * y * logQ;
            if (grad != null) {
                grad[zo + k] += (float) (weight * (Math.exp(logQ) - y));
            }
        }
        return l;
    }

    /** softmax(x) into {@code out}; returns log Σ exp(x). */
    protected static double softmax(double[] x, double[] out) {
        double lse = logSumExp(x);
        for (int k = 0; k < x.length; k++) {
            out[k] = Math.exp(x[k] - lse);
        }
        return lse;
    }

    private static float[] logits(INDArray preOutput, IActivation activationFn) {
        if (activationFn instanceof ActivationIdentity) {
            return FlatArrays.of(preOutput);
        }
        return FlatArrays.of(activationFn.getActivation(preOutput.dup(), true));
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

    private double[] computeScores(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        int b = (int) preOutput.size(0);
        int c = (int) preOutput.size(1);
        double[] loss = lossAndGradient(logits(preOutput, activationFn), FlatArrays.of(labels), b, c, null);
        applyMask(loss, null, c, mask);
        return loss;
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
        int b = (int) preOutput.size(0);
        int c = (int) preOutput.size(1);
        float[] grad = new float[b * c];
        double[] loss = lossAndGradient(logits(preOutput, activationFn), FlatArrays.of(labels), b, c, grad);
        applyMask(loss, grad, c, mask);
        INDArray dLdOut = Nd4j.create(grad, new long[] {b, c}, 'c').castTo(preOutput.dataType());
        // Chain rule through the output activation; the identity of a student's logits needs none.
        INDArray dLdPre = activationFn instanceof ActivationIdentity ? dLdOut
                : activationFn.backprop(preOutput.dup(), dLdOut).getFirst();
        double sum = 0;
        for (double l : loss) {
            sum += l;
        }
        return Pair.of(average ? sum / loss.length : sum, dLdPre);
    }

    @Override
    public String toString() {
        return name();
    }
}
