package dev.distill.student.loss;

import dev.distill.settings.SettingsReader;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * DIST (Huang, You, Wang, Qian and Xu, "Knowledge Distillation from A Stronger Teacher", NeurIPS 2022): instead
 * of matching the teacher's probabilities exactly (KL), the student matches their <em>relations</em>, by Pearson
 * correlation, which tolerates the teacher's scale and shift and so suits a teacher much stronger than the
 * student. With q = softmax(z/T), p = softmax(t/T) for the b rows of a minibatch, ρ(a, b) the Pearson
 * correlation of two vectors, and the rows' hard labels ỹ:
 *
 * <pre>
 *   inter = 1 − (1/b) Σ_i ρ(q_i, p_i)            (each row's classes: the ranking of classes per example)
 *   intra = 1 − (1/C) Σ_k ρ(q_{·k}, p_{·k})      (each class over the minibatch: which examples are most k)
 *   L     = α · T² · (w_inter · inter + w_intra · intra) + (1 − α) · (1/b) Σ_i CE(softmax(z_i), ỹ_i)
 * </pre>
 *
 * With ã = a − mean(a), b̃ = b − mean(b), ρ = ã·b̃ / (|ã| |b̃| + ε) and (ã, b̃ being centred)
 * {@code ∂ρ/∂a = b̃/D − (ã·b̃)|b̃| ã / (|ã| D²)}, D = |ã| |b̃| + ε, ε = 1e-8 (0 where |ã| = 0); the chain rule
 * through the softmax is {@code ∂L/∂u_j = q_j (g_j − Σ_k g_k q_k)} for g = ∂L/∂q, u = z/T, and ∂/∂z = ∂/∂u / T.
 * The intra-class term couples the rows of a minibatch, so this loss is not a sum over examples: each row's
 * score is its own inter and hard terms plus the minibatch's intra term, so that the scores' mean is L, and the
 * gradient is that of b·L (DL4J divides by b). A minibatch of one row has no intra-class relation (the term is
 * left out). Rows without a hard label take the soft term alone at weight 1 (their inter term; the intra term
 * is weighted by the minibatch's mean soft weight). The paper's
 * settings: w_inter = w_intra = 1, T = 1 (ImageNet); w = 2, T = 4 (CIFAR-100), with the cross-entropy at
 * weight 1, i.e. α = 0.5 here with doubled weights.
 *
 * <p>Key {@code dist} in {@link DistillationLosses}; settings {@code temperature}, {@code alpha},
 * {@code dist.inter-weight}, {@code dist.intra-weight}, {@code label-smoothing}.
 */
public class DistLoss extends DistillationLoss {
    private static final long serialVersionUID = 1L;
    static final double EPS = 1e-8;

    @JsonProperty("temperature")
    private double temperature;
    @JsonProperty("alpha")
    private double alpha;
    @JsonProperty("inter_weight")
    private double interWeight;
    @JsonProperty("intra_weight")
    private double intraWeight;

    /** For JSON deserialisation of a saved network configuration. */
    public DistLoss() {
        this(1, 0.5, 2, 2, 0);
    }

    public DistLoss(double temperature, double alpha, double interWeight, double intraWeight, double labelSmoothing) {
        checkTemperatureAndAlpha(temperature, alpha);
        checkWeights("DIST", interWeight, intraWeight);
        this.temperature = temperature;
        this.alpha = alpha;
        this.interWeight = interWeight;
        this.intraWeight = intraWeight;
        setLabelSmoothing(labelSmoothing);
    }

    static DistLoss read(SettingsReader d) {
        SettingsReader w = d.section("dist");
        return new DistLoss(d.positive("temperature"), d.fraction("alpha"), w.numberIn("inter-weight", 0, 1000),
                w.numberIn("intra-weight", 0, 1000), DistillationLosses.labelSmoothing(d));
    }

    @Override
    public Map<String, Object> settings() {
        return settingsOf(temperature, alpha, "inter_weight", interWeight, "intra_weight", intraWeight);
    }

    /**
     * Adds {@code scale · ∂ρ(a, b)/∂a} to {@code g} and returns ρ, for vectors of n entries at {@code a[ao + s·i]},
     * {@code b[bo + s·i]}, {@code g[go + s·i]}.
     */
    static double pearson(double[] a, double[] bv, int off, int stride, int n, double scale, double[] g) {
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[off + stride * i];
            mb += bv[off + stride * i];
        }
        ma /= n;
        mb /= n;
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < n; i++) {
            double x = a[off + stride * i] - ma;
            double y = bv[off + stride * i] - mb;
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        na = Math.sqrt(na);
        nb = Math.sqrt(nb);
        double d = na * nb + EPS;
        double rho = dot / d;
        if (g != null && scale != 0) {
            double k2 = na > 0 ? dot * nb / (na * d * d) : 0;
            for (int i = 0; i < n; i++) {
                double x = a[off + stride * i] - ma;
                double y = bv[off + stride * i] - mb;
                g[off + stride * i] += scale * (y / d - k2 * x);
            }
        }
        return rho;
    }

    @Override
    public double[] lossAndGradient(float[] z, float[] packed, int b, int c, float[] grad) {
        int w = width(packed, b, c);
        double invT = 1.0 / temperature;
        double[] q = new double[b * c];
        double[] p = new double[b * c];
        double[] row = new double[c];
        double[] out = new double[c];
        double[] wSoft = new double[b];
        double[] loss = new double[b];
        for (int i = 0; i < b; i++) {
            wSoft[i] = teacherWeight(PackedTargets.hasLabel(packed, i * w, c), alpha);
            for (int k = 0; k < c; k++) {
                row[k] = z[i * c + k] * invT;
            }
            softmax(row, out);
            System.arraycopy(out, 0, q, i * c, c);
            for (int k = 0; k < c; k++) {
                row[k] = packed[i * w + k] * invT;
            }
            softmax(row, out);
            System.arraycopy(out, 0, p, i * c, c);
        }
        double t2 = temperature * temperature;
        // g = ∂(Σ_i score_i)/∂q. Row i's inter term: w_i T² w_inter (1 − ρ_i); the intra term, shared by the
        // minibatch and weighted by its mean soft weight w̄, adds w̄ T² w_intra (1 − mean_k ρ_k) to every row.
        double[] g = grad == null ? null : new double[b * c];
        double meanWeight = 0;
        for (double v : wSoft) {
            meanWeight += v / b;
        }
        for (int i = 0; i < b; i++) {
            double rho = pearson(q, p, i * c, 1, c, -wSoft[i] * t2 * interWeight, g);
            loss[i] = wSoft[i] * t2 * interWeight * (1 - rho);
        }
        double intra = 0;
        if (b > 1 && intraWeight > 0) {
            for (int k = 0; k < c; k++) {
                intra += 1 - pearson(q, p, k, c, b, -meanWeight * b / c * t2 * intraWeight, g);
            }
            intra /= c;
        }
        double[] scratch = new double[c];
        for (int i = 0; i < b; i++) {
            int zo = i * c;
            loss[i] += meanWeight * t2 * intraWeight * intra;
            if (grad != null) {
                // through softmax(z/T): ∂/∂z_j = q_j (g_j − Σ_k g_k q_k) / T
                double dot = 0;
                for (int k = 0; k < c; k++) {
                    dot += g[zo + k] * q[zo + k];
                }
                for (int k = 0; k < c; k++) {
                    grad[zo + k] = (float) (q[zo + k] * (g[zo + k] - dot) * invT);
                }
            }
            loss[i] += hardTerm(z, zo, packed, i * w + c, c, labelWeight(PackedTargets.hasLabel(packed, i * w, c), alpha),
                    grad, scratch);
        }
        return loss;
    }

    @Override
    public String name() {
        return "dist(T=" + temperature + ", alpha=" + alpha + ", inter " + interWeight + ", intra " + intraWeight
                + (labelSmoothing > 0 ? ", label smoothing " + labelSmoothing : "") + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DistLoss k && o.getClass() == getClass() && k.temperature == temperature && k.alpha == alpha
                && k.interWeight == interWeight && k.intraWeight == intraWeight && k.labelSmoothing == labelSmoothing;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(temperature, alpha, interWeight, intraWeight, labelSmoothing);
    }
}
