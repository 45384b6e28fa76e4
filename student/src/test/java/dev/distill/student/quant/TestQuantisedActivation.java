package dev.distill.student.quant;

import dev.distill.student.FlatArrays;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestQuantisedActivation {
    private static INDArray row(float... v) {
        return Nd4j.createFromArray(new float[][] {v});
    }

    @Test
    void neverWritesIntoTheCallersArray() {
        QuantisedActivation q = new QuantisedActivation(true, 0.9);
        q.setRange(0, 2.55f, true);
        q.setActive(true);
        INDArray x = row(-1, 0.123f, 3);
        assertThat(FlatArrays.of(q.getActivation(x, false))).containsExactly(0f, 0.12f, 2.55f);
        assertThat(FlatArrays.of(x)).containsExactly(-1f, 0.123f, 3f);
    }

    @Test
    void tracksAMovingAverageOfBatchRangesFromTheFirstBatch() {
        QuantisedActivation q = new QuantisedActivation(false, 0.9);
        assertThat(q.hasSeenData()).isFalse();
        q.getActivation(row(-2, 1, 4), true);
        assertThat(q.lo()).isEqualTo(-2f);
        assertThat(q.hi()).isEqualTo(4f);
        q.getActivation(row(0, 1, 14), true);      // lo = 0.9·−2 + 0.1·0, hi = 0.9·4 + 0.1·14
        assertThat(q.lo()).isCloseTo(-1.8f, within(1e-6f));
        assertThat(q.hi()).isCloseTo(5.0f, within(1e-6f));
        q.getActivation(row(-100, 100), false);    // inference does not move the range
        assertThat(q.hi()).isCloseTo(5.0f, within(1e-6f));
    }

    @Test
    void quantisesOnlyWhenActiveAndAppliesReluFirst() {
        QuantisedActivation q = new QuantisedActivation(true, 0.9);
        q.setRange(0, 2.55f, true);                 // scale 0.01, zero point 0
        assertThat(FlatArrays.of(q.getActivation(row(-1, 0.123f, 3), false))).containsExactly(0f, 0.123f, 3f);
        q.setActive(true);
        float[] out = FlatArrays.of(q.getActivation(row(-1, 0.123f, 3), false));
        assertThat(out[0]).isEqualTo(0f);
        assertThat(out[1]).isCloseTo(0.12f, within(1e-6f));
        assertThat(out[2]).isCloseTo(2.55f, within(1e-6f));
    }

    /**
     * The straight-through estimator treats rounding as the identity, so the backward pass must be the
     * derivative of the surrogate clamp(inner(z), lo, hi): checked against central differences of that
     * function at points away from its kinks, for ReLU and identity, active and inactive.
     */
    @Test
    void backwardIsTheFiniteDifferenceGradientOfTheClippedSurrogate() {
        float[] z = {-2.5f, -0.7f, -0.2f, 0.3f, 1.1f, 1.9f, 2.6f, 4.0f};
        float[] eps = {0.3f, -1.2f, 0.8f, 2.0f, -0.5f, 1.5f, 0.9f, -0.4f};
        for (boolean relu : new boolean[] {true, false}) {
            for (boolean active : new boolean[] {true, false}) {
                QuantisedActivation q = new QuantisedActivation(relu, 0.9);
                q.setRange(-1, 2.5f, true);
                q.setActive(active);
                float[] grad = FlatArrays.of(q.backprop(row(z), row(eps)).getFirst());
                double h = 1e-3;
                for (int i = 0; i < z.length; i++) {
                    double numeric = (surrogate(z[i] + h, relu, active) - surrogate(z[i] - h, relu, active)) / (2 * h);
                    assertThat((double) grad[i]).as("relu=%s active=%s z=%s", relu, active, z[i])
                            .isCloseTo(eps[i] * numeric, within(1e-4));
                }
            }
        }
    }

    private static double surrogate(double z, boolean relu, boolean active) {
        double a = relu ? Math.max(z, 0) : z;
        return active ? Math.max(-1, Math.min(2.5, a)) : a;
    }

    @Test
    void rangeAndFlagsSurviveTheJsonOfTheLayerConfiguration() {
        QuantisedActivation q = new QuantisedActivation(true, 0.95);
        q.setRange(-0.5f, 3.25f, true);
        q.setActive(true);
        var conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().list()
                .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(2).nOut(2).activation(q).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder(
                        org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MSE).nIn(2).nOut(2)
                        .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build())
                .build();
        var back = org.deeplearning4j.nn.conf.MultiLayerConfiguration.fromJson(conf.toJson());
        var fn = ((org.deeplearning4j.nn.conf.layers.BaseLayer) back.getConf(0).getLayer()).getActivationFn();
        assertThat(fn).isEqualTo(q).isNotSameAs(q);
    }
}
