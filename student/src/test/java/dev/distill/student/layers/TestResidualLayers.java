package dev.distill.student.layers;

import dev.distill.student.Fixtures;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.export.TestMobileBlocks;
import dev.distill.student.loss.HintonLoss;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The copies a residual block keeps outside workspaces (its input in the forward pass, the gradient of its sum in
 * the backward pass) are freed as soon as nothing reads them, not left for a garbage collection.
 */
public class TestResidualLayers {
    /** A residual block over 4 channels: depthwise → BN → ReLU, pointwise → BN, the input added, ReLU. */
    private static Stream<LayerSpec> block() {
        return Stream.of(LayerSpec.residualStart(),
                LayerSpec.depthwise(3).withActivation("identity"), LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.conv(4, 1).withActivation("identity"), LayerSpec.batchNorm(),
                LayerSpec.residualAdd("relu"));
    }

    /** Two residual blocks in a row over a 4×4×4 map. */
    private static MultiLayerNetwork twoBlocks() {
        Stream<LayerSpec> stem = Stream.of(LayerSpec.conv(4, 3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"));
        List<LayerSpec> layers = Stream.of(stem, block(), block(), Stream.of(LayerSpec.globalPool()))
                .flatMap(s -> s).toList();
        return new NetworkSpec(new int[] {1, 6, 6}, 3, layers).newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
    }

    @Test
    void trainingAndInferenceLeaveNoCopyHeld() {
        MultiLayerNetwork net = twoBlocks();
        DataSet data = TestMobileBlocks.lines(64, 1).dataSet();
        int before = ResidualLayers.heldCopies();
        for (int step = 0; step < 6; step++) {
            net.fit(data);
            assertThat(ResidualLayers.heldCopies() - before).as("after step %d", step + 1).isZero();
        }
        INDArray x = Nd4j.create(TestMobileBlocks.lines(5, 2).x());
        INDArray first = net.output(x);
        assertThat(net.output(x).equals(first)).as("inference after training gives the same twice").isTrue();
        assertThat(ResidualLayers.heldCopies() - before).as("after inference").isZero();
    }

    @Test
    void betweenAForwardAndItsBackwardPassEachBlockHoldsItsInput() {
        MultiLayerNetwork net = twoBlocks();
        DataSet data = TestMobileBlocks.lines(64, 1).dataSet();
        int before = ResidualLayers.heldCopies();
        net.setInput(data.getFeatures());
        net.setLabels(data.getLabels());
        net.computeGradientAndScore();
        assertThat(ResidualLayers.heldCopies() - before).as("after a gradient, before clear()").isEqualTo(2);
        net.clear();
        assertThat(ResidualLayers.heldCopies() - before).as("after clear()").isZero();
    }

    @Test
    void aPassAbandonedInsideABlockIsFreedByTheNextPass() {
        MultiLayerNetwork net = twoBlocks();
        INDArray x = Nd4j.create(TestMobileBlocks.lines(5, 2).x());
        int before = ResidualLayers.heldCopies();
        // DL4J layers: conv 0, BN 1, ReLU 2, start 3, depthwise 4, ...: stop inside the first block.
        assertThat(net.getLayer(3).conf().getLayer()).isInstanceOf(ResidualStart.class);
        net.feedForwardToLayer(4, x);
        assertThat(ResidualLayers.heldCopies() - before).as("the first block's input, never added").isEqualTo(1);
        INDArray out = net.output(x);
        assertThat(ResidualLayers.heldCopies() - before).as("after a whole pass").isZero();
        assertThat(out.equals(net.output(x))).as("the abandoned pass does not change the next one").isTrue();
    }
}
