package dev.distill.student.quant;

import dev.distill.student.loss.PackedTargets;
import dev.distill.student.FlatArrays;
import dev.distill.student.loss.HintonLoss;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestQat {
    static NetworkSpec spec(int bits, int start, Boolean firstLayer) {
        return new NetworkSpec(new int[] {4}, 3, List.of(
                LayerSpec.dense(6).withQuantise(firstLayer)))
                .withQuantisation(new QuantisationSettings(true, bits, start, 0.9));
    }

    static TrainingSettings sgd() {
        return new TrainingSettings(1, 8, 1, 1, "sgd", 0.1, 0.9, "constant", 0.5, 1, 0, 3);
    }

    static DataSet batch() {
        java.util.Random r = new java.util.Random(4);
        float[] x = new float[8 * 4];
        float[] y = new float[8 * 7];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < 8; i++) {
            PackedTargets.pack(null, i % 3, 3, y, i * 7);
        }
        return new DataSet(Nd4j.create(x, new long[] {8, 4}, 'c'), Nd4j.create(y, new long[] {8, 7}, 'c'));
    }

    @Test
    void networkStartsWithAnInputQuantiserAndQuantisesHiddenOutputs() {
        MultiLayerNetwork net = spec(8, 0, null).newNetwork(new HintonLoss(1, 0), sgd(), 1);
        assertThat(net.getnLayers()).isEqualTo(3);
        assertThat(Qat.quantisers(net)).hasSize(2);
        assertThat(Qat.quantisers(net).get(1).isRelu()).isTrue();
        assertThat(Qat.of(spec(8, 0, false))).isNotNull();
    }

    /**
     * With plain SGD the shadow-weight step must equal W − lr · ∇L(Q(W)) / n: the gradient taken at the
     * fake-quantised weights, applied to the float weights (DL4J's gradient is summed over the n rows of the
     * minibatch; its updater divides by n). Biases are not quantised: b − lr · ∇b / n.
     */
    @Test
    void aStepAppliesTheGradientAtTheQuantisedWeightsToTheFloatWeights() {
        NetworkSpec spec = spec(4, 0, null);
        Qat qat = Qat.of(spec);
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), sgd(), 1);
        DataSet ds = batch();
        net.fit(ds); // sets the ranges (the first batch) so that the reference below sees the same quantisers
        float[] w = FlatArrays.of(net.getLayer(1).getParam(DefaultParamInitializer.WEIGHT_KEY));
        float[] b = FlatArrays.of(net.getLayer(1).getParam(DefaultParamInitializer.BIAS_KEY));

        MultiLayerNetwork reference = Qat.copy(net);
        qat.beforeStep(reference, 0);
        float[] qw = FlatArrays.of(reference.getLayer(1).getParam(DefaultParamInitializer.WEIGHT_KEY));
        Set<Float> perColumn = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            perColumn.add(qw[i * 6] / Quantisers.perColumn(w, 4, 6, 4).scales()[0]);
        }
        for (float code : perColumn) {
            assertThat(code).isCloseTo(Math.round(code), within(1e-4f));
            assertThat(Math.abs(code)).isLessThanOrEqualTo(7f);
        }
        reference.setInput(ds.getFeatures());
        reference.setLabels(ds.getLabels());
        reference.computeGradientAndScore();
        float[] gw = FlatArrays.of(reference.gradient().getGradientFor("1_W"));
        float[] gb = FlatArrays.of(reference.gradient().getGradientFor("1_b"));

        qat.beforeStep(net, 0);
        net.fit(ds);
        qat.afterStep(net, 0);
        float[] w1 = FlatArrays.of(net.getLayer(1).getParam(DefaultParamInitializer.WEIGHT_KEY));
        float[] b1 = FlatArrays.of(net.getLayer(1).getParam(DefaultParamInitializer.BIAS_KEY));
        for (int i = 0; i < w.length; i++) {
            assertThat(w1[i]).as("w[%d]", i).isCloseTo(w[i] - 0.1f * gw[i] / 8, within(2e-5f));
        }
        for (int i = 0; i < b.length; i++) {
            assertThat(b1[i]).as("b[%d]", i).isCloseTo(b[i] - 0.1f * gb[i] / 8, within(2e-5f));
        }
    }

    @Test
    void nothingIsQuantisedBeforeTheStartStepAndOptedOutLayersKeepFloatWeights() {
        NetworkSpec spec = spec(8, 5, false);
        Qat qat = Qat.of(spec);
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), sgd(), 1);
        float[] before = FlatArrays.of(net.params());
        qat.beforeStep(net, 4);
        assertThat(FlatArrays.of(net.params())).containsExactly(before);
        assertThat(Qat.quantisers(net)).noneMatch(QuantisedActivation::isActive);
        qat.beforeStep(net, 5);
        assertThat(Qat.quantisers(net)).allMatch(QuantisedActivation::isActive);
        assertThat(FlatArrays.of(net.getLayer(1).getParam(DefaultParamInitializer.WEIGHT_KEY)))
                .as("opted-out hidden layer").containsExactly(FlatArrays.of(
                        spec.newNetwork(new HintonLoss(1, 0), sgd(), 1).getLayer(1).getParam(DefaultParamInitializer.WEIGHT_KEY)));
        assertThat(FlatArrays.of(net.getLayer(2).getParam(DefaultParamInitializer.WEIGHT_KEY)))
                .as("output layer").isNotEqualTo(FlatArrays.of(
                        spec.newNetwork(new HintonLoss(1, 0), sgd(), 1).getLayer(2).getParam(DefaultParamInitializer.WEIGHT_KEY)));
    }

    @Test
    void stateCountsOnlyQuantisersThatSawData() {
        Qat qat = Qat.of(spec(8, 0, null));
        MultiLayerNetwork net = spec(8, 0, null).newNetwork(new HintonLoss(1, 0), sgd(), 1);
        assertThat(qat.state(net)).containsExactly(0, 0, 0, 0, 0, 0);
        // two workers' sums weighted by examples: one saw [−1, 3] (10 rows), one saw nothing (10 rows)
        qat.setState(net, new float[] {-1 * 10 / 20f, 3 * 10 / 20f, 10 / 20f, 0, 0, 0});
        assertThat(Qat.quantisers(net).get(0).lo()).isEqualTo(-1f);
        assertThat(Qat.quantisers(net).get(0).hi()).isEqualTo(3f);
        assertThat(Qat.quantisers(net).get(1).hasSeenData()).isFalse();
    }
}
