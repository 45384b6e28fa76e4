package dev.distill.student.loss;

import dev.distill.settings.SettingsReader;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * Decoupled knowledge distillation (Zhao, Cui, Song, Qiu and Liang, "Decoupled Knowledge Distillation",
 * CVPR 2022). The KL divergence of Hinton's loss is split at the target class y into a binary part (how much
 * probability the target class gets) and a part over the other classes (how the rest is shared), which are
 * weighted separately, so that the "dark knowledge" among the non-target classes is not suppressed when the
 * teacher is confident. With u = z/T, v = t/T, q = softmax(u), p = softmax(v), and on the classes k ≠ y the
 * renormalised q̂ = softmax(u_{≠y}), p̂ = softmax(v_{≠y}):
 *
 * <pre>
 *   TCKD = p_y log(p_y / q_y) + (1 − p_y) log((1 − p_y) / (1 − q_y))
 *   NCKD = Σ_{k≠y} p̂_k log(p̂_k / q̂_k)
 *   L    = α · T² · (w_t · TCKD + w_n · NCKD) + (1 − α) · CE(softmax(z), ỹ)
 *
 *   ∂TCKD/∂u_y = q_y − p_y          ∂TCKD/∂u_k = −q̂_k (q_y − p_y)   (k ≠ y)
 *   ∂NCKD/∂u_y = 0                  ∂NCKD/∂u_k = q̂_k − p̂_k           (k ≠ y)
 *   ∂L/∂z      = α · T · (w_t ∂TCKD/∂u + w_n ∂NCKD/∂u) + (1 − α) · (softmax(z) − ỹ)
 * </pre>
 *
 * (From ∂log q_y/∂u_j = δ_jy − q_j and ∂log(1 − q_y)/∂u_j = −q_y(δ_jy − q_j)/(1 − q_y), the TCKD gradient is
 * (δ_jy − q_j)(q_y − p_y)/(1 − q_y); for j ≠ y, q_j/(1 − q_y) = q̂_j, which keeps it finite when q_y → 1.)
 * Every log-probability is taken from log-sum-exps, e.g. log(1 − q_y) = lse(u_{≠y}) − lse(u). The paper's
 * defaults are w_t = α_DKD = 1, w_n = β_DKD = 8 (CIFAR-100; 0.5–2 on ImageNet), T = 4, with the cross-entropy
 * at weight 1: α = 0.5 here with w_t = 1, w_n = 8 keeps their ratio 1 : 1 : 8. A row without a hard label
 * takes the teacher's top class as y and the soft term alone at weight 1. ỹ is the hard label, smoothed by
 * {@link #labelSmoothing()} when set. The reference implementation (github.com/megvii-research/mdistiller)
 * also ramps the KD term up over the first 20 epochs; this loss has no schedule.
 *
 * <p>Key {@code dkd} in {@link DistillationLosses}; settings {@code temperature}, {@code alpha},
 * {@code dkd.target-weight} (w_t), {@code dkd.non-target-weight} (w_n), {@code label-smoothing}.
 */
public class DkdLoss extends DistillationLoss {
    private static final long serialVersionUID = 1L;

    @JsonProperty("temperature")
    private double temperature;
    @JsonProperty("alpha")
    private double alpha;
    @JsonProperty("target_weight")
    private double targetWeight;
    @JsonProperty("non_target_weight")
    private double nonTargetWeight;

    /** For JSON deserialisation of a saved network configuration. */
    public DkdLoss() {
        this(4, 0.5, 1, 8, 0);
    }

    public DkdLoss(double temperature, double alpha, double targetWeight, double nonTargetWeight,
                   double labelSmoothing) {
        checkTemperatureAndAlpha(temperature, alpha);
        checkWeights("DKD", targetWeight, nonTargetWeight);
        this.temperature = temperature;
        this.alpha = alpha;
        this.targetWeight = targetWeight;
        this.nonTargetWeight = nonTargetWeight;
        setLabelSmoothing(labelSmoothing);
    }

    static DkdLoss read(SettingsReader d) {
        SettingsReader w = d.section("dkd");
        return new DkdLoss(d.positive("temperature"), d.fraction("alpha"), w.numberIn("target-weight", 0, 1000),
                w.numberIn("non-target-weight", 0, 1000), DistillationLosses.labelSmoothing(d));
    }

    @Override
    public Map<String, Object> settings() {
        return settingsOf(temperature, alpha, "target_weight", targetWeight, "non_target_weight", nonTargetWeight);
    }

    @Override
    public double[] lossAndGradient(float[] z, float[] packed, int b, int c, float[] grad) {
        int w = width(packed, b, c);
        double[] loss = new double[b];
        double[] u = new double[c];
        double[] v = new double[c];
        double[] scratch = new double[c];
        double invT = 1.0 / temperature;
        for (int i = 0; i < b; i++) {
            int zo = i * c;
            int lo = i * w;
            boolean hasLabel = PackedTargets.hasLabel(packed, lo, c);
            double wSoft = teacherWeight(hasLabel, alpha);
            double wHard = labelWeight(hasLabel, alpha);
            if (grad != null) {
                java.util.Arrays.fill(grad, zo, zo + c, 0f);
            }
            double l = 0;
            if (wSoft > 0) {
                int y = 0;
                for (int k = 0; k < c; k++) {
                    u[k] = z[zo + k] * invT;
                    v[k] = packed[lo + k] * invT;
                    if (hasLabel ? packed[lo + c + k] > 0.5f : v[k] > v[y]) {
                        y = k;
                    }
                }
                double lseU = logSumExp(u);
                double lseV = logSumExp(v);
                double uy = u[y];
                double vy = v[y];
                u[y] = Double.NEGATIVE_INFINITY;   // the non-target classes only
                v[y] = Double.NEGATIVE_INFINITY;
                double lseUn = logSumExp(u);
                double lseVn = logSumExp(v);
                double logQy = uy - lseU;
                double logPy = vy - lseV;
                double logQn = lseUn - lseU;   // log(1 − q_y)
                double logPn = lseVn - lseV;   // log(1 − p_y)
                double py = Math.exp(logPy);
                double qy = Math.exp(logQy);
                double tckd = py * (logPy - logQy) + (logPn > Double.NEGATIVE_INFINITY ? Math.exp(logPn) * (logPn - logQn) : 0);
                double nckd = 0;
                double gScale = wSoft * temperature;
                for (int k = 0; k < c; k++) {
                    if (k == y) {
                        continue;
                    }
                    double logPh = v[k] - lseVn;
                    double logQh = u[k] - lseUn;
                    double ph = Math.exp(logPh);
                    double qh = Math.exp(logQh);
                    nckd += ph * (logPh - logQh);
                    if (grad != null) {
                        grad[zo + k] = (float) (gScale * (targetWeight * -qh * (qy - py) + nonTargetWeight * (qh - ph)));
                    }
                }
                if (grad != null) {
                    grad[zo + y] = (float) (gScale * targetWeight * (qy - py));
                }
                l += wSoft * temperature * temperature * (targetWeight * tckd + nonTargetWeight * nckd);
            }
            l += hardTerm(z, zo, packed, lo + c, c, wHard, grad, scratch);
            loss[i] = l;
        }
        return loss;
    }

    @Override
    public String name() {
        return "dkd(T=" + temperature + ", alpha=" + alpha + ", target " + targetWeight + ", non-target "
                + nonTargetWeight + (labelSmoothing > 0 ? ", label smoothing " + labelSmoothing : "") + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DkdLoss k && o.getClass() == getClass() && k.temperature == temperature && k.alpha == alpha
                && k.targetWeight == targetWeight && k.nonTargetWeight == nonTargetWeight
                && k.labelSmoothing == labelSmoothing;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(temperature, alpha, targetWeight, nonTargetWeight, labelSmoothing);
    }
}
