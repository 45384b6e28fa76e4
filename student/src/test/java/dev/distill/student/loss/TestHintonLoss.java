package dev.distill.student.loss;

import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.Fixtures;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestHintonLoss {

    private static float[] packed(float[] teacher, Integer label, int c) {
        float[] y = new float[PackedTargets.width(c)];
        PackedTargets.pack(teacher, label, c, y, 0);
        return y;
    }

    @Test
    void packsTeacherLogitsOneHotAndFlag() {
        assertThat(packed(new float[] {1, 2, 3}, 1, 3)).containsExactly(1, 2, 3, 0, 1, 0, 1);
        assertThat(packed(new float[] {1, 2, 3}, null, 3)).containsExactly(1, 2, 3, 0, 0, 0, 0);
        assertThat(packed(null, 2, 3)).containsExactly(0, 0, 0, 0, 0, 1, 1);
    }

    /**
     * Two classes, z = (0, 0), t = (2 ln 3, 0), T = 2, α = 0.5, y = 0. By hand: softmax(t/T) = softmax(ln 3, 0)
     * = (3/4, 1/4); softmax(z/T) = (1/2, 1/2); KL = 3/4 ln(3/2) + 1/4 ln(1/2); soft term = α T² KL = 2 KL;
     * CE = ln 2; hard term = 0.5 ln 2. Gradient: α T (q − p) + (1 − α)(softmax(z) − y)
     * = (1·(1/2 − 3/4) + 0.5(1/2 − 1), 1·(1/2 − 1/4) + 0.5·1/2) = (−0.5, 0.5).
     */
    @Test
    void matchesHandDerivedLossAndGradient() {
        HintonLoss loss = new HintonLoss(2, 0.5);
        float t0 = (float) (2 * Math.log(3));
        float[][] z = {{0, 0}};
        float[][] y = {packed(new float[] {t0, 0}, 0, 2)};
        float[][] grad = new float[1][2];
        double[] l = loss.lossAndGradient(z, y, grad);
        double kl = 0.75 * Math.log(1.5) + 0.25 * Math.log(0.5);
        assertThat(l[0]).isCloseTo(2 * kl + 0.5 * Math.log(2), within(1e-6));
        assertThat(grad[0][0]).isCloseTo(-0.5f, within(1e-6f));
        assertThat(grad[0][1]).isCloseTo(0.5f, within(1e-6f));
    }

    @Test
    void alphaZeroIsPlainCrossEntropy() {
        HintonLoss loss = new HintonLoss(5, 0);
        float[][] z = {{1, 2, 3}};
        float[][] y = {packed(new float[] {9, -9, 0}, 2, 3)};
        double lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
        assertThat(loss.lossAndGradient(z, y, null)[0]).isCloseTo(lse - 3, within(1e-9));
    }

    /**
     * Label smoothing ε = 0.2 on two classes: ỹ = (0.9, 0.1). At z = 0, q = (1/2, 1/2): CE = ln 2 whatever ỹ;
     * gradient q − ỹ = (−0.4, 0.4). The registry's {@code cross-entropy} is this loss.
     */
    @Test
    void labelSmoothingOfTheHardTerm() {
        HintonLoss loss = new HintonLoss(1, 0, 0.2);
        float[][] grad = new float[1][2];
        double[] l = loss.lossAndGradient(new float[][] {{0, 0}}, new float[][] {packed(null, 0, 2)}, grad);
        assertThat(l[0]).isCloseTo(Math.log(2), within(1e-9));
        assertThat(grad[0][0]).isCloseTo(-0.4f, within(1e-7f));
        assertThat(grad[0][1]).isCloseTo(0.4f, within(1e-7f));
        var d = dev.distill.settings.SettingsReader.of(com.typesafe.config.ConfigFactory.parseString(
                "loss = cross-entropy, label-smoothing = 0.2").atPath("kd.student.distillation"), "kd.student.distillation");
        DistillationLoss read = DistillationLosses.read(d);
        assertThat(read).isEqualTo(loss);
        assertThat(read.name()).isEqualTo("cross-entropy(label smoothing 0.2)");
        assertThat(DistillationLosses.hardLabelsOnly(read)).isTrue();
        assertThat(DistillationLosses.hardLabelsOnly(new HintonLoss(2, 0.5, 0.2))).isFalse();
        LossChecks.assertGradientMatchesFiniteDifferences(new HintonLoss(2, 0.6, 0.1),
                LossChecks.logits(new Random(8), 3, 4, 2), LossChecks.targets(new Random(9), 3, 4, 2, 1), 2e-3f);
    }

    @Test
    void rowsWithoutLabelTrainOnTheSoftTermAloneWithWeightOne() {
        HintonLoss loss = new HintonLoss(3, 0.2);
        float[][] z = {{0.5f, -1f, 2f}};
        float[] t = {1f, 0f, -1f};
        double unlabelled = loss.lossAndGradient(z, new float[][] {packed(t, null, 3)}, null)[0];
        double softOnly = new HintonLoss(3, 1).lossAndGradient(z, new float[][] {packed(t, 1, 3)}, null)[0];
        assertThat(unlabelled).isCloseTo(softOnly, within(1e-9));
        assertThat(unlabelled).isGreaterThan(0);
    }

    @Test
    void identicalLogitsGiveZeroSoftLoss() {
        HintonLoss loss = new HintonLoss(4, 1);
        float[][] grad = new float[1][3];
        double[] l = loss.lossAndGradient(new float[][] {{1, 2, 3}}, new float[][] {packed(new float[] {1, 2, 3}, 0, 3)}, grad);
        assertThat(l[0]).isCloseTo(0, within(1e-9));
        assertThat(grad[0]).containsOnly(0f);
    }

    @Test
    void gradientMatchesFiniteDifferences() {
        Random r = new Random(3);
        LossChecks.assertGradientMatchesFiniteDifferences(new HintonLoss(2.5, 0.7), LossChecks.logits(r, 4, 5, 2),
                LossChecks.targets(r, 4, 5, 3, 3), 2e-3f);
    }

    @Test
    void nd4jEntryPointsAgreeWithTheScalarMaths() {
        HintonLoss loss = new HintonLoss(2, 0.5);
        INDArray pre = Nd4j.createFromArray(new float[][] {{0, 0}, {1, -1}});
        INDArray labels = Nd4j.createFromArray(new float[][] {
                packed(new float[] {(float) (2 * Math.log(3)), 0}, 0, 2), packed(new float[] {0, 0}, 1, 2)});
        double[] byHand = loss.lossAndGradient(pre.toFloatMatrix(), labels.toFloatMatrix(), null);
        assertThat(loss.computeScore(labels, pre, new ActivationIdentity(), null, true))
                .isCloseTo((byHand[0] + byHand[1]) / 2, within(1e-6));
        assertThat(loss.computeScoreArray(labels, pre, new ActivationIdentity(), null).toDoubleVector())
                .containsExactly(new double[] {byHand[0], byHand[1]}, within(1e-6));
        INDArray g = loss.computeGradient(labels, pre, new ActivationIdentity(), null);
        assertThat(g.getFloat(0, 0)).isCloseTo(-0.5f, within(1e-6f));
    }

    @Test
    void rejectsBadSettingsAndMismatchedLabels() {
        assertThatThrownBy(() -> new HintonLoss(0, 0.5)).hasMessage("temperature must be > 0, got 0.0");
        assertThatThrownBy(() -> new HintonLoss(1, 1.5)).hasMessage("alpha must be in [0, 1], got 1.5");
        assertThatThrownBy(() -> new HintonLoss(1, 0.5).lossAndGradient(new float[][] {{1, 2}}, new float[][] {{1, 2, 3}}, null))
                .hasMessage("distillation targets have width 3 but the network has 2 outputs; expected width 5 = 2 * classes + 1");
    }

    @Test
    void survivesJsonRoundTripInsideANetworkConfiguration() {
        var conf = new NetworkSpec(new int[] {4}, 3, java.util.List.of(
                LayerSpec.dense(5)))
                .toConfiguration(new HintonLoss(3, 0.25), Fixtures.training(), 1);
        var back = org.deeplearning4j.nn.conf.MultiLayerConfiguration.fromJson(conf.toJson());
        var out = (org.deeplearning4j.nn.conf.layers.OutputLayer) back.getConf(1).getLayer();
        assertThat(out.getLossFn()).isEqualTo(new HintonLoss(3, 0.25));
        for (DistillationLoss loss : java.util.List.of(new HintonLoss(2, 0.5, 0.1), new DkdLoss(4, 0.5, 1, 8, 0.05),
                new DistLoss(1, 0.5, 2, 2, 0))) {
            var c = new NetworkSpec(new int[] {4}, 3, java.util.List.of(LayerSpec.dense(5)))
                    .toConfiguration(loss, Fixtures.training(), 1);
            var l = ((org.deeplearning4j.nn.conf.layers.OutputLayer) org.deeplearning4j.nn.conf.MultiLayerConfiguration
                    .fromJson(c.toJson()).getConf(1).getLayer()).getLossFn();
            assertThat(l).as(loss.name()).isEqualTo(loss);
        }
    }

    /**
     * Networks saved before the loss registry name {@code dev.distill.student.KdLoss} in their configuration;
     * they still load, with the same loss.
     */
    @Test
    @SuppressWarnings("deprecation")
    void loadsAConfigurationSavedUnderTheFormerName() {
        String json = new NetworkSpec(new int[] {4}, 3, java.util.List.of(
                LayerSpec.dense(5)))
                .toConfiguration(new HintonLoss(3, 0.25), Fixtures.training(), 1).toJson();
        assertThat(json).contains("\"dev.distill.student.loss.HintonLoss\"");
        String old = json.replace("\"dev.distill.student.loss.HintonLoss\"", "\"dev.distill.student.KdLoss\"");
        var back = org.deeplearning4j.nn.conf.MultiLayerConfiguration.fromJson(old);
        var loss = (HintonLoss) ((org.deeplearning4j.nn.conf.layers.OutputLayer) back.getConf(1).getLayer()).getLossFn();
        assertThat(loss).isInstanceOf(dev.distill.student.KdLoss.class);
        assertThat(loss.temperature()).isEqualTo(3);
        assertThat(loss.alpha()).isEqualTo(0.25);
        float[][] z = {{0.3f, -1f, 2f}};
        float[][] t = {packed(new float[] {1f, 0.5f, -2f}, 1, 3)};
        assertThat(loss.lossAndGradient(z, t, null)).containsExactly(new HintonLoss(3, 0.25).lossAndGradient(z, t, null));
    }
}
