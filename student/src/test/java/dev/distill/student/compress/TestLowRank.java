package dev.distill.student.compress;

import dev.distill.student.FlatArrays;
import dev.distill.student.loss.HintonLoss;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestLowRank {
    static final TrainingSettings T = new TrainingSettings(1, 8, 1, 1, "adam", 0.01, 0.9, "constant", 0.5, 1, 0, 3);

    static NetworkSpec spec(double rank) {
        return new NetworkSpec(new int[] {8}, 3, List.of(
                LayerSpec.dense(16).withRank(rank)));
    }

    @Test
    void aFactorisedLayerIsTwoLayersWithRTimesInPlusOutWeights() {
        MultiLayerNetwork net = spec(4).newNetwork(new HintonLoss(1, 0), T, 1);
        assertThat(net.getnLayers()).isEqualTo(3);
        assertThat(net.numParams()).isEqualTo(8 * 4 + 4 * 16 + 16 + 16 * 3 + 3);
        assertThat(spec(4).dl4jIndices(0)).containsExactly(0, 1);
        assertThat(spec(4).dl4jIndices(1)).containsExactly(2);
    }

    /** At rank min(in, out) the SVD factors reproduce the trained layer, so the network computes the same. */
    @Test
    void fullRankSvdInitialisationReproducesTheTrainedNetwork() {
        MultiLayerNetwork source = spec(0).newNetwork(new HintonLoss(1, 0), T, 9);
        MultiLayerNetwork net = spec(8).newNetwork(new HintonLoss(1, 0), T, 1);
        List<String> done = LowRank.initialise(net, spec(8), source, "source.zip");
        assertThat(done).containsExactly("layers[0]: rank 8 of [8, 16] from the SVD of source.zip (100.0% of the energy)",
                "the output layer: weights of source.zip");
        float[][] x = new float[5][8];
        java.util.Random r = new java.util.Random(1);
        for (float[] row : x) {
            for (int i = 0; i < 8; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        float[] want = FlatArrays.of(source.output(Nd4j.create(x)));
        float[] got = FlatArrays.of(net.output(Nd4j.create(x)));
        assertThat(got).containsExactly(want, within(1e-4f));
    }

    @Test
    void anEnergyFractionBecomesTheRankThatKeepsIt() {
        MultiLayerNetwork source = spec(0).newNetwork(new HintonLoss(1, 0), T, 9);
        NetworkSpec resolved = LowRank.resolve(spec(0.999999), source, "source.zip");
        assertThat(resolved.layers().get(0).rank()).isEqualTo(8);
        NetworkSpec half = LowRank.resolve(spec(0.5), source, "source.zip");
        assertThat(half.layers().get(0).rank()).isBetween(1.0, 7.0);
        assertThat(half.ranksUnresolved()).isFalse();
        MultiLayerNetwork other = new NetworkSpec(new int[] {8}, 3, List.of(
                LayerSpec.dense(5))).newNetwork(new HintonLoss(1, 0), T, 1);
        assertThatThrownBy(() -> LowRank.resolve(spec(0.5), other, "other.zip"))
                .hasMessage("other.zip has no dense layer of 16 units in position 1 to take the SVD of for"
                        + " kd.student.architecture.layers[0]");
        assertThatThrownBy(() -> spec(0.5).toConfiguration(new HintonLoss(1, 0), T, 1))
                .hasMessage("layer rank 0.5 is a retained-energy fraction that must be resolved from a trained layer first");
    }
}
