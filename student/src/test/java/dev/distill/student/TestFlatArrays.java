package dev.distill.student;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TestFlatArrays {
    /** Parameter views of every layer, including convolution weights, read as what they hold. */
    @Test
    void readsParameterViewsOfEveryLayerKind() {
        MultiLayerNetwork net = new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                new LayerSpec("conv", 0, "relu", 0, 4, 3, 1, "same", "max"),
                new LayerSpec("conv", 0, "relu", 0, 6, 2, 1, "valid", "max"),
                new LayerSpec("dense", 5, "relu", 0, 0, 0, 1, "same", "max")))
                .newNetwork(new KdLoss(1, 0), TestKdLoss.settings(), 1);
        for (int l = 0; l < net.getnLayers(); l++) {
            for (var p : net.getLayer(l).paramTable().entrySet()) {
                assertThat(FlatArrays.of(p.getValue())).as("layer %d %s", l, p.getKey())
                        .containsExactly(p.getValue().dup('c').data().asFloat());
            }
        }
    }
}
