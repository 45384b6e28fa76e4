package dev.distill.student.loss;

import dev.distill.settings.SettingsReader;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;

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
 * <p>Key {@code hinton} in {@link DistillationLosses}; settings {@code kd.student.distillation.temperature}
 * (T), {@code alpha} (α) and {@code label-smoothing} (of the hard term, {@link #labelSmoothing()}).
 */
public class HintonLoss extends DistillationLoss {
    private static final long serialVersionUID = 1L;

    @JsonProperty("temperature")
    private double temperature;
    @JsonProperty("alpha")
    private double alpha;

    /** For JSON deserialisation of a saved network configuration. */
    public HintonLoss() {
        this(1.0, 0.0);
    }

    public HintonLoss(double temperature, double alpha) {
        this(temperature, alpha, 0);
    }

    /** With label smoothing ε on the hard-label term ({@link #labelSmoothing()}). */
    public HintonLoss(double temperature, double alpha, double labelSmoothing) {
        checkTemperatureAndAlpha(temperature, alpha);
        this.temperature = temperature;
        this.alpha = alpha;
        setLabelSmoothing(labelSmoothing);
    }

    public double temperature() {
        return temperature;
    }

    public double alpha() {
        return alpha;
    }

    /** Reads T and α from {@code kd.student.distillation}. */
    static HintonLoss read(SettingsReader distillation) {
        return new HintonLoss(distillation.positive("temperature"), distillation.fraction("alpha"),
                DistillationLosses.labelSmoothing(distillation));
    }

    @Override
    public Map<String, Object> settings() {
        return settingsOf(temperature, alpha);
    }

    @Override
    public double[] lossAndGradient(float[] z, float[] packed, int b, int c, float[] grad) {
        int w = width(packed, b, c);
        double[] loss = new double[b];
        double[] zs = new double[c];
        double[] ts = new double[c];
        double invT = 1.0 / temperature;
        for (int i = 0; i < b; i++) {
            int zo = i * c;
            int lo = i * w;
            boolean hasLabel = PackedTargets.hasLabel(packed, lo, c);
            double wSoft = teacherWeight(hasLabel, alpha);
            double wHard = labelWeight(hasLabel, alpha);
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
            l += hardTerm(z, zo, packed, lo + c, c, wHard, grad, zs);
            loss[i] = l;
        }
        return loss;
    }

    @Override
    public String name() {
        String smoothing = labelSmoothing > 0 ? ", label smoothing " + labelSmoothing : "";
        return alpha == 0 ? "cross-entropy" + (labelSmoothing > 0 ? "(label smoothing " + labelSmoothing + ")" : "")
                : "hinton(T=" + temperature + ", alpha=" + alpha + smoothing + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && o instanceof HintonLoss k && k.temperature == temperature && k.alpha == alpha
                && k.labelSmoothing == labelSmoothing;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(temperature) * 31 + Double.hashCode(alpha);
    }
}
