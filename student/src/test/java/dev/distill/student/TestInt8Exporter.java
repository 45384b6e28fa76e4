package dev.distill.student;

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
                .newNetwork(new KdLoss(1, 0), TestKdLoss.settings(), 1);
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
                List.of(new LayerSpec("dense", 16, "relu", 0, 0, 0, 1, "same", "max")));
        MultiLayerNetwork net = spec.newNetwork(new KdLoss(1, 0), TestKdLoss.settings(), 1);
        DataSet ds = hardLabels(train.x(), train.y(), 3);
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
                List.of(new LayerSpec("dense", 3, "relu", 0, 0, 0, 1, "same", "max"), new LayerSpec("batch-norm", 0,
                        "identity", 0, 0, 0, 1, "same", "max")))
                .newNetwork(new KdLoss(1, 0), TestKdLoss.settings(), 1);
        assertThatThrownBy(() -> Int8Exporter.export(bn, Int8Exporter.calibrate(bn, new float[][] {{0, 1, 2, 3}})))
                .hasMessage("layer 1 is a BatchNormalization; the int8 runtime supports dense, convolution and max-pooling"
                        + " layers");
        MultiLayerNetwork avg = new NetworkSpec(new int[] {1, 4, 4}, 2, List.of(
                new LayerSpec("conv", 0, "relu", 0, 2, 3, 1, "same", "max"),
                new LayerSpec("pool", 0, "identity", 0, 0, 2, 2, "same", "avg")))
                .newNetwork(new KdLoss(1, 0), TestKdLoss.settings(), 1);
        assertThatThrownBy(() -> Int8Exporter.export(avg, Int8Exporter.calibrate(avg, new float[][] {new float[16]})))
                .hasMessage("layer 1 is AVG pooling; the int8 runtime supports max pooling over a feature map");
    }

    /**
     * Images 1×6×6 whose class is where a bright 2×2 square sits (top-left, centre, bottom-right), with noise;
     * a convolution (same padding), max pooling, a valid convolution and a dense layer. The int8 model,
     * calibrated after training, predicts what the float network predicts.
     */
    @Test
    void convolutionalStudentsExportAndAgreeWithTheFloatNetwork() {
        ConvData train = ConvData.of(600, 3);
        ConvData test = ConvData.of(300, 4);
        NetworkSpec spec = new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                new LayerSpec("conv", 0, "relu", 0, 4, 3, 1, "same", "max"),
                new LayerSpec("pool", 0, "identity", 0, 0, 2, 2, "same", "max"),
                new LayerSpec("conv", 0, "relu", 0, 6, 2, 1, "valid", "max")));
        MultiLayerNetwork net = spec.newNetwork(new KdLoss(1, 0), TestKdLoss.settings(), 1);
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

    /** Rows {@code x} with hard labels {@code y} of {@code classes} classes, packed for {@link KdLoss}. */
    static DataSet hardLabels(float[][] x, int[] y, int classes) {
        int width = 2 * classes + 1;
        float[] labels = new float[x.length * width];
        for (int i = 0; i < x.length; i++) {
            KdLoss.packLabels(null, y[i], classes, labels, i * width);
        }
        return new DataSet(Nd4j.create(x), Nd4j.create(labels, new long[] {x.length, width}, 'c'));
    }

    /** A small image problem for convolutional tests. */
    public record ConvData(float[][] x, int[] y) {
        public static ConvData of(int n, long seed) {
            java.util.Random r = new java.util.Random(seed);
            float[][] x = new float[n][36];
            int[] y = new int[n];
            int[][] corners = {{0, 0}, {2, 2}, {4, 4}};
            for (int i = 0; i < n; i++) {
                y[i] = r.nextInt(3);
                for (int k = 0; k < 36; k++) {
                    x[i][k] = (float) Math.max(0, r.nextGaussian() * 0.2);
                }
                for (int dy = 0; dy < 2; dy++) {
                    for (int dx = 0; dx < 2; dx++) {
                        x[i][(corners[y[i]][0] + dy) * 6 + corners[y[i]][1] + dx] += 1f;
                    }
                }
            }
            return new ConvData(x, y);
        }

        DataSet dataSet() {
            return hardLabels(x, y, 3);
        }
    }
}
