package dev.distill.student.loss;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.distill.student.loss.LossChecks.packed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestDistLoss {

    /**
     * Two classes: any two non-constant vectors of two entries correlate at +1 or −1. With z = (1, 0) and
     * t = (0, 1) the student ranks the classes the other way round: ρ = −1, inter = 1 − (−1) = 2, and with one
     * row there is no intra-class term: L = w_inter · 2 (T = 1, α = 1).
     */
    @Test
    void oppositeRankingOfTwoClassesCostsTwiceTheInterWeight() {
        double[] l = new DistLoss(1, 1, 1.5, 2, 0).lossAndGradient(new float[][] {{1, 0}},
                new float[][] {packed(new float[] {0, 1}, 0, 2)}, null);
        assertThat(l[0]).isCloseTo(3.0, within(1e-6));
    }

    /** Pearson correlation: ρ((1, 2, 3), (2, 4, 7)) by hand = 5 / sqrt(2 · 12.667) = 0.99339. */
    @Test
    void pearsonByHand() {
        double[] g = new double[3];
        double rho = DistLoss.pearson(new double[] {1, 2, 3}, new double[] {2, 4, 7}, 0, 1, 3, 1, g);
        double expected = 5 / Math.sqrt(2 * (38.0 / 3));
        assertThat(rho).isCloseTo(expected, within(1e-8));
        // the gradient of ρ sums to zero (ρ ignores a shift of a) and is orthogonal to ã (ρ ignores its scale)
        assertThat(g[0] + g[1] + g[2]).isCloseTo(0, within(1e-9));
        assertThat(-g[0] + g[2]).isCloseTo(0, within(1e-8));
    }

    @Test
    void teacherProbabilitiesMatchedExactlyCostNothing() {
        Random r = new Random(2);
        float[][] z = LossChecks.logits(r, 4, 5, 2);
        float[][] y = new float[4][];
        for (int i = 0; i < 4; i++) {
            y[i] = packed(z[i].clone(), i % 5, 5);
        }
        float[][] grad = new float[4][5];
        double[] l = new DistLoss(2, 1, 1, 1, 0).lossAndGradient(z, y, grad);
        // 0 up to the ε = 1e-8 added to the correlation's denominator (|ã| |b̃| is ~1e-2 here)
        for (int i = 0; i < 4; i++) {
            assertThat(l[i]).isCloseTo(0, within(1e-5));
            for (float g : grad[i]) {
                assertThat(g).isCloseTo(0f, within(1e-5f));
            }
        }
    }

    @Test
    void gradientOfTheSummedScoresMatchesFiniteDifferences() {
        Random r = new Random(9);
        float[][] z = LossChecks.logits(r, 5, 6, 1.5);
        float[][] y = LossChecks.targets(r, 5, 6, 2.5, 3);
        LossChecks.assertGradientMatchesFiniteDifferences(new DistLoss(1, 0.5, 2, 2, 0), z, y, 3e-3f);
        LossChecks.assertGradientMatchesFiniteDifferences(new DistLoss(4, 0.8, 1, 3, 0.1), z, y, 3e-3f);
    }

    /** The scores' mean is L: the intra term (a property of the minibatch) is shared equally by its rows. */
    @Test
    void scoresAverageToTheMinibatchLoss() {
        Random r = new Random(4);
        float[][] z = LossChecks.logits(r, 3, 4, 1);
        float[][] y = LossChecks.targets(r, 3, 4, 2);
        double[] inter = new DistLoss(1, 1, 1, 0, 0).lossAndGradient(z, y, null);
        double[] intra = new DistLoss(1, 1, 0, 1, 0).lossAndGradient(z, y, null);
        assertThat(intra[0]).isEqualTo(intra[1]).isEqualTo(intra[2]).isGreaterThan(0);
        double[] both = new DistLoss(1, 1, 1, 1, 0).lossAndGradient(z, y, null);
        for (int i = 0; i < 3; i++) {
            assertThat(both[i]).isCloseTo(inter[i] + intra[i], within(1e-9));
        }
    }

    @Test
    void readsItsSettingsAndRejectsBadOnes() {
        assertThatThrownBy(() -> new DistLoss(1, 0.5, 1, -2, 0)).hasMessage("DIST weights must be >= 0, got 1.0, -2.0");
        var d = dev.distill.settings.SettingsReader.of(com.typesafe.config.ConfigFactory.parseString(
                "loss = dist, temperature = 4, alpha = 0.5, dist { inter-weight = 2, intra-weight = 1 }")
                        .atPath("kd.student.distillation"),
                "kd.student.distillation");
        assertThat(DistillationLosses.read(d)).isEqualTo(new DistLoss(4, 0.5, 2, 1, 0));
    }
}
