package dev.distill.student;

import dev.distill.student.loss.HintonLoss;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TestFlatArrays {
    /** Parameter views of every layer, including convolution weights, read as what they hold. */
    @Test
    void readsParameterViewsOfEveryLayerKind() {
        MultiLayerNetwork net = new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                LayerSpec.conv(4, 3),
                LayerSpec.conv(6, 2).withPadding("valid"),
                LayerSpec.dense(5)))
                .newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        for (int l = 0; l < net.getnLayers(); l++) {
            for (var p : net.getLayer(l).paramTable().entrySet()) {
                assertThat(FlatArrays.of(p.getValue())).as("layer %d %s", l, p.getKey())
                        .containsExactly(p.getValue().dup('c').data().asFloat());
            }
        }
    }
}
