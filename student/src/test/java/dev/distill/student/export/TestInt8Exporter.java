package dev.distill.student.export;

import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.Evaluation;
import dev.distill.student.FlatArrays;
import dev.distill.student.Fixtures;
import dev.distill.student.loss.PackedTargets;
import dev.distill.student.loss.HintonLoss;
import dev.distill.runtime.DenseLayer;
import dev.distill.runtime.Int8Model;
import dev.distill.testing.Synthetic;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

public class TestInt8Exporter {

    /**
     * A 2 → 2 (identity output) network with W = [[0.5, −0.1], [−0.25, 0.2]] (rows = inputs), b = (0.3, −0.05),
     * input range [−1, 1]. By hand: channel 0 max |w| = 0.5 → s0 = 0.5/127, q = (127, −64 (−63.5 rounds to
     * even −64)); channel 1 max = 0.2 → s1 = 0.2/127, q = (−64 (−63.5), 127). Input scale 2/255, zero point
     * rint(127.5) = 128. Bias q0 = rint(0.3 / (2/255 · 0.5/127)) = rint(9715.5) = 9716; q1 = rint(−0.05 /
     * (2/255 · 0.2/127)) = rint(−4048.125) = −4048.
     */
    @Test
    void quantisesWeightsScalesAndBiasesAsDerivedByHand() {
        MultiLayerNetwork net = new NetworkSpec(new int[] {2}, 2, List.of())
                .newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        net.getLayer(0).setParam(DefaultParamInitializer.WEIGHT_KEY,
                Nd4j.createFromArray(new float[][] {{0.5f, -0.1f}, {-0.25f, 0.2f}}));
        net.getLayer(0).setParam(DefaultParamInitializer.BIAS_KEY, Nd4j.createFromArray(new float[][] {{0.3f, -0.05f}}));
        Int8Model m = Int8Exporter.export(net, List.of(new dev.distill.student.quant.Quantisers.Range(-1, 1)));
        DenseLayer d = (DenseLayer) m.layers().get(0);
        assertThat(d.weightScales()[0]).isCloseTo(0.5f / 127, within(1e-9f));
        assertThat(d.weightScales()[1]).isCloseTo(0.2f / 127, within(1e-9f));
        assertThat(d.weights()).containsExactly((byte) 127, (byte) -64, (byte) -64, (byte) 127);
        assertThat(m.inputScale()).isCloseTo(2f / 255, within(1e-9f));
        assertThat(m.inputZeroPoint()).isEqualTo(128);
        assertThat(d.bias()).containsExactly(9716, -4048);
    }

    @Test
    void runtimeAgreesWithTheFloatNetworkAfterTraining() {
        Synthetic.Blobs train = Synthetic.blobs(600, 8, 3, 0.7, 21);
        Synthetic.Blobs test = Synthetic.blobs(400, 8, 3, 0.7, 21);
        NetworkSpec spec = new NetworkSpec(new int[] {8}, 3,
                List.of(LayerSpec.dense(16)));
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        DataSet ds = Fixtures.hardLabels(train.x(), train.y(), 3);
        for (int epoch = 0; epoch < 60; epoch++) {
            net.fit(ds);
        }
        Int8Model m = Int8Exporter.export(net, Int8Exporter.calibrate(net, train.x()));
        float[] fp32 = FlatArrays.of(net.output(Nd4j.create(test.x())));
        int agree = 0;
        for (int r = 0; r < 400; r++) {
            int pf = Evaluation.argmax(java.util.Arrays.copyOfRange(fp32, r * 3, r * 3 + 3));
            if (m.predict(test.x()[r]) == pf) {
                agree++;
            }
        }
        assertThat(agree).as("int8 vs fp32 agreement of 400").isGreaterThanOrEqualTo(392);
        assertThat(m.parameters()).isEqualTo(net.numParams());
    }

    @Test
    void refusesLayersTheRuntimeCannotRun() {
        MultiLayerNetwork bn = new NetworkSpec(new int[] {4}, 2,
                List.of(LayerSpec.dense(3), LayerSpec.batchNorm()))
                .newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        assertThatThrownBy(() -> Int8Exporter.export(bn, Int8Exporter.calibrate(bn, new float[][] {{0, 1, 2, 3}})))
                .hasMessage("layer 1 is a batch normalisation after layer 0, whose activation is relu; it can be folded"
                        + " into that layer only when the layer's activation is identity (conv, batch-norm, then the"
                        + " activation on the batch norm)");
        MultiLayerNetwork first = new NetworkSpec(new int[] {4}, 2, List.of(LayerSpec.batchNorm(), LayerSpec.dense(3)))
                .newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        assertThatThrownBy(() -> Int8Exporter.export(first, Int8Exporter.calibrate(first, new float[][] {{0, 1, 2, 3}})))
                .hasMessage("layer 0 is a batch normalisation that does not follow a dense, convolution or depthwise"
                        + " layer; the int8 runtime folds batch normalisation into the weighted layer right before it");
        MultiLayerNetwork avg = new NetworkSpec(new int[] {1, 4, 4}, 2, List.of(
                LayerSpec.conv(2, 3),
                LayerSpec.pool("avg", 3)))
                .newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        assertThatThrownBy(() -> Int8Exporter.export(avg, Int8Exporter.calibrate(avg, new float[][] {new float[16]})))
                .hasMessage("layer 1 is average pooling 3x3 with stride 3 over a 4x4 map, whose windows reach into the"
                        + " padding; the int8 runtime averages windows inside the map (a map size the pooling kernel"
                        + " divides)");
    }

    /**
     * Images 1×6×6 whose class is where a bright 2×2 square sits (top-left, centre, bottom-right), with noise;
     * a convolution (same padding), max pooling, a valid convolution and a dense layer. The int8 model,
     * calibrated after training, predicts what the float network predicts.
     */
    @Test
    void convolutionalStudentsExportAndAgreeWithTheFloatNetwork() {
        Fixtures.ConvData train = Fixtures.ConvData.of(600, 3);
        Fixtures.ConvData test = Fixtures.ConvData.of(300, 4);
        NetworkSpec spec = new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                LayerSpec.conv(4, 3),
                LayerSpec.pool("max", 2),
                LayerSpec.conv(6, 2).withPadding("valid")));
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        for (int epoch = 0; epoch < 40; epoch++) {
            net.fit(train.dataSet());
        }
        Int8Model m = Int8Exporter.export(net, Int8Exporter.calibrate(net, train.x()));
        assertThat(m.layers()).extracting(l -> l.getClass().getSimpleName())
                .containsExactly("ConvLayer", "MaxPoolLayer", "ConvLayer", "DenseLayer");
        assertThat(m.parameters()).isEqualTo(net.numParams());
        float[] fp32 = FlatArrays.of(net.output(Nd4j.create(test.x())));
        int agree = 0;
        int correct = 0;
        for (int r = 0; r < 300; r++) {
            int p = m.predict(test.x()[r]);
            agree += p == Evaluation.argmax(java.util.Arrays.copyOfRange(fp32, r * 3, r * 3 + 3)) ? 1 : 0;
            correct += p == test.y()[r] ? 1 : 0;
        }
        assertThat(agree).as("int8 vs fp32 agreement of 300").isGreaterThanOrEqualTo(294);
        assertThat(correct).as("int8 accuracy of 300").isGreaterThan(270);
    }
}
