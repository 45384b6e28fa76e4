package dev.distill.student.compress;

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

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestPruning {
    /**
     * s_i = 0, s_f = 0.8, t0 = 100, n = 4, Δt = 10: s = 0.8 − 0.8·(1 − k/4)³ after the k-th step:
     * k = 0 → 0, 1 → 0.8 − 0.8·0.421875 = 0.4625, 2 → 0.7, 3 → 0.7875, 4 → 0.8.
     */
    @Test
    void cubicScheduleAsDerivedByHand() {
        PruningSettings p = new PruningSettings(true, 0, 0.8, 100, 4, 10);
        assertThat(p.sparsityAt(99)).isZero();
        assertThat(p.sparsityAt(100)).isCloseTo(0, within(1e-12));
        assertThat(p.sparsityAt(109)).isCloseTo(0, within(1e-12));
        assertThat(p.sparsityAt(110)).isCloseTo(0.4625, within(1e-12));
        assertThat(p.sparsityAt(125)).isCloseTo(0.7, within(1e-12));
        assertThat(p.sparsityAt(130)).isCloseTo(0.7875, within(1e-12));
        assertThat(p.sparsityAt(140)).isCloseTo(0.8, within(1e-12));
        assertThat(p.sparsityAt(100_000)).isCloseTo(0.8, within(1e-12));
        assertThat(new PruningSettings(true, 0.2, 0.6, 0, 2, 5).sparsityAt(0)).isCloseTo(0.2, within(1e-12));
        assertThat(PruningSettings.OFF.sparsityAt(1000)).isZero();
    }

    @Test
    void maskRemovesExactlyTheSmallestMagnitudesTiesByPosition() {
        float[] mask = Pruning.mask(new float[] {0.5f, -0.1f, 0.3f, -0.7f, 0.1f}, 0.4);
        assertThat(mask).containsExactly(1, 0, 1, 1, 0);
        assertThat(Pruning.mask(new float[] {1, 2, 3}, 0.99)).containsExactly(0, 0, 1);
    }

    /** Masks hold through Adam steps (whose momentum would revive pruned weights) and skip opted-out layers. */
    @Test
    void prunedWeightsStayZeroThroughUpdatesAndOptedOutLayersAreUntouched() {
        NetworkSpec spec = new NetworkSpec(new int[] {6}, 3, List.of(
                LayerSpec.dense(10),
                LayerSpec.dense(8).withPrune(false)));
        Pruning pruning = Pruning.of(spec, new PruningSettings(true, 0.5, 0.5, 0, 1, 1));
        TrainingSettings t = new TrainingSettings(1, 8, 1, 1, "adam", 0.05, 0.9, "constant", 0.5, 1, 0, 3);
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), t, 1);
        java.util.Random r = new java.util.Random(2);
        float[] x = new float[16 * 6];
        float[] y = new float[16 * 7];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < 16; i++) {
            PackedTargets.pack(null, i % 3, 3, y, i * 7);
        }
        DataSet ds = new DataSet(Nd4j.create(x, new long[] {16, 6}, 'c'), Nd4j.create(y, new long[] {16, 7}, 'c'));
        float[] optedOut = FlatArrays.of(net.getLayer(1).getParam(DefaultParamInitializer.WEIGHT_KEY));
        pruning.startRound(net, 0);
        for (int step = 0; step < 20; step++) {
            pruning.beforeStep(net, step);
            net.fit(ds);
            pruning.afterStep(net, step);
        }
        var sparsity = Pruning.sparsityByLayer(net);
        assertThat(sparsity).hasSize(3);
        assertThat(sparsity.get(0).zeros()).isEqualTo(30L);            // floor(0.5 · 60)
        assertThat(sparsity.get(1).zeros()).isEqualTo(0L);
        assertThat(sparsity.get(2).zeros()).isEqualTo(12L);            // floor(0.5 · 24)
        assertThat(FlatArrays.of(net.getLayer(1).getParam(DefaultParamInitializer.WEIGHT_KEY))).isNotEqualTo(optedOut);
    }
}
