package dev.distill.student;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestEvaluation {
    @Test
    void countsAccuracyConfusionAgreementAndKl() {
        Evaluation e = new Evaluation(2);
        e.record(new float[] {2, 0}, new float[] {1, 0}, 0);   // correct, agrees
        e.record(new float[] {0, 2}, new float[] {1, 0}, 0);   // wrong, disagrees
        Evaluation other = new Evaluation(2);
        other.record(new float[] {0, 1}, new float[] {0, 1}, 1); // correct, agrees, identical logits: KL 0
        other.record(new float[] {0, 1}, new float[] {0, 3}, null); // unlabelled: only agreement and KL
        e.add(other);
        assertThat(e.accuracy()).isCloseTo(2.0 / 3, within(1e-12));
        assertThat(e.perClassAccuracy()).containsExactly(0.5, 1.0);
        assertThat(e.confusion()).isDeepEqualTo(new long[][] {{1, 1}, {0, 1}});
        assertThat(e.teacherAgreement()).isEqualTo(0.75);
        // KL(softmax(1,0) || softmax(2,0)) by hand, and the others.
        double p = Math.exp(1) / (Math.exp(1) + 1);
        double q = Math.exp(2) / (Math.exp(2) + 1);
        double kl1 = p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
        double kl2 = p * Math.log(p / (1 - q)) + (1 - p) * Math.log((1 - p) / q);
        double r = 1 / (1 + Math.exp(-3));
        double s = 1 / (1 + Math.exp(-1));
        double kl4 = r * Math.log(r / s) + (1 - r) * Math.log((1 - r) / (1 - s));
        assertThat(e.meanKlToTeacher()).isCloseTo((kl1 + kl2 + kl4) / 4, within(1e-9));
        assertThat(e.rows()).isEqualTo(4);
        assertThat(e.labelled()).isEqualTo(3);
    }
}
