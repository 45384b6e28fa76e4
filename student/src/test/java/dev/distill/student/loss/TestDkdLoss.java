package dev.distill.student.loss;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.distill.student.loss.LossChecks.packed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestDkdLoss {

    /**
     * Three classes, z = 0, t = (ln 2, 0, 0), T = 1, soft term only (α = 1), y = 0, w_t = 1, w_n = 8.
     * p = (1/2, 1/4, 1/4), q = (1/3, 1/3, 1/3). TCKD = 1/2 ln(3/2) + 1/2 ln(3/4) = 1/2 ln(9/8);
     * p̂ = q̂ = (1/2, 1/2), so NCKD = 0. Gradient: at y, q_y − p_y = −1/6; elsewhere
     * −q̂_k (q_y − p_y) + 8 (q̂_k − p̂_k) = 1/12.
     */
    @Test
    void matchesHandDerivedLossAndGradient() {
        DkdLoss loss = new DkdLoss(1, 1, 1, 8, 0);
        float[][] grad = new float[1][3];
        double[] l = loss.lossAndGradient(new float[][] {{0, 0, 0}},
                new float[][] {packed(new float[] {(float) Math.log(2), 0, 0}, 0, 3)}, grad);
        assertThat(l[0]).isCloseTo(0.5 * Math.log(9.0 / 8), within(1e-7));
        assertThat(grad[0][0]).isCloseTo(-1f / 6, within(1e-6f));
        assertThat(grad[0][1]).isCloseTo(1f / 12, within(1e-6f));
        assertThat(grad[0][2]).isCloseTo(1f / 12, within(1e-6f));
    }

    /** The paper's decomposition (its eq. 4): KL(p ‖ q) = TCKD + (1 − p_y) · NCKD, at any temperature. */
    @Test
    void targetAndNonTargetPartsRecomposeHintonsDivergence() {
        Random r = new Random(11);
        float[][] z = LossChecks.logits(r, 6, 7, 2);
        float[][] y = LossChecks.targets(r, 6, 7, 3);
        double t = 3;
        double[] kl = new HintonLoss(t, 1).lossAndGradient(z, y, null);
        double[] tckd = new DkdLoss(t, 1, 1, 0, 0).lossAndGradient(z, y, null);
        double[] nckd = new DkdLoss(t, 1, 0, 1, 0).lossAndGradient(z, y, null);
        for (int i = 0; i < z.length; i++) {
            int label = 0;
            for (int k = 0; k < 7; k++) {
                if (y[i][7 + k] > 0.5f) {
                    label = k;
                }
            }
            double[] v = new double[7];
            for (int k = 0; k < 7; k++) {
                v[k] = y[i][k] / t;
            }
            double py = Math.exp(v[label] - DistillationLoss.logSumExp(v));
            assertThat(tckd[i] + (1 - py) * nckd[i]).as("row %d", i).isCloseTo(kl[i], within(1e-6 * Math.max(1, kl[i])));
        }
    }

    @Test
    void gradientMatchesFiniteDifferencesWithLabelledAndUnlabelledRows() {
        Random r = new Random(5);
        float[][] z = LossChecks.logits(r, 5, 6, 2);
        float[][] y = LossChecks.targets(r, 5, 6, 3, 2, 4);
        LossChecks.assertGradientMatchesFiniteDifferences(new DkdLoss(4, 0.5, 1, 8, 0), z, y, 3e-3f);
        LossChecks.assertGradientMatchesFiniteDifferences(new DkdLoss(2, 0.7, 2, 0.5, 0.1), z, y, 3e-3f);
    }

    /** A row without a hard label uses the teacher's top class as the target class, and no hard term. */
    @Test
    void unlabelledRowTakesTheTeachersTopClass() {
        float[][] z = {{0.3f, 1.2f, -0.4f, 0.1f}};
        float[] t = {0.5f, -1f, 2.5f, 0f};
        double unlabelled = new DkdLoss(2, 0.3, 1, 8, 0).lossAndGradient(z, new float[][] {packed(t, null, 4)}, null)[0];
        double asLabelledTwo = new DkdLoss(2, 1, 1, 8, 0).lossAndGradient(z, new float[][] {packed(t, 2, 4)}, null)[0];
        assertThat(unlabelled).isCloseTo(asLabelledTwo, within(1e-9)).isGreaterThan(0);
    }

    @Test
    void identicalLogitsGiveZeroSoftLossAndStayFiniteWhenConfident() {
        float[][] grad = new float[1][3];
        double[] l = new DkdLoss(4, 1, 1, 8, 0).lossAndGradient(new float[][] {{1, 2, 3}},
                new float[][] {packed(new float[] {1, 2, 3}, 2, 3)}, grad);
        assertThat(l[0]).isCloseTo(0, within(1e-9));
        assertThat(grad[0]).containsOnly(0f);
        // a teacher and a student sure of the target class (1 − q_y underflows to 0 in double)
        double[] sure = new DkdLoss(1, 1, 1, 8, 0).lossAndGradient(new float[][] {{900, 0, 0}},
                new float[][] {packed(new float[] {0, 800, 0}, 0, 3)}, grad);
        assertThat(sure[0]).isFinite();
        assertThat(grad[0]).doesNotContain(Float.NaN);
    }

    @Test
    void readsItsSettingsAndRejectsBadOnes() {
        assertThatThrownBy(() -> new DkdLoss(4, 0.5, -1, 8, 0)).hasMessage("DKD weights must be >= 0, got -1.0, 8.0");
        assertThatThrownBy(() -> new DkdLoss(4, 0.5, 1, 8, 1)).hasMessage("label smoothing must be in [0, 1), got 1.0");
        var d = dev.distill.settings.SettingsReader.of(com.typesafe.config.ConfigFactory.parseString(
                "loss = dkd, temperature = 3, alpha = 0.25, label-smoothing = 0.1,"
                        + " dkd { target-weight = 2, non-target-weight = 6 }").atPath("kd.student.distillation"), "kd.student.distillation");
        assertThat(DistillationLosses.read(d)).isEqualTo(new DkdLoss(3, 0.25, 2, 6, 0.1));
        assertThat(new DkdLoss(3, 0.25, 2, 6, 0.1).name())
                .isEqualTo("dkd(T=3.0, alpha=0.25, target 2.0, non-target 6.0, label smoothing 0.1)");
    }
}
