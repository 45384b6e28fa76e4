package dev.distill.student.export;

import dev.distill.runtime.Int8Model;
import dev.distill.student.Evaluation;
import dev.distill.student.Fixtures;
import dev.distill.student.FlatArrays;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.loss.HintonLoss;
import dev.distill.student.quant.Qat;
import dev.distill.student.quant.QuantisationSettings;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * MobileNet's blocks in the int8 file and the ONNX export: batch normalisation folded into the layer before it,
 * depthwise convolutions, average and global average pooling; trained here, exported, and compared with the
 * network they stand for.
 */
public class TestMobileBlocks {
    /** conv → BN → ReLU, depthwise → BN → ReLU, average pooling, pointwise conv → BN → ReLU, global pooling. */
    public static NetworkSpec mobile() {
        return new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                LayerSpec.conv(4, 3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.depthwise(3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.pool("avg", 2),
                LayerSpec.conv(8, 1).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.globalPool()));
    }

    /**
     * 6×6 images holding a 3-pixel line at a random place, the class its direction (horizontal, vertical,
     * diagonal), with noise: what a global average pools over, unlike a class given by position.
     */
    public static Fixtures.ConvData lines(int n, long seed) {
        java.util.Random r = new java.util.Random(seed);
        float[][] x = new float[n][36];
        int[] y = new int[n];
        int[][] steps = {{0, 1}, {1, 0}, {1, 1}};
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            for (int k = 0; k < 36; k++) {
                x[i][k] = (float) Math.max(0, r.nextGaussian() * 0.2);
            }
            int row = r.nextInt(4);
            int col = r.nextInt(4);
            for (int t = 0; t < 3; t++) {
                x[i][(row + t * steps[y[i]][0]) * 6 + col + t * steps[y[i]][1]] += 1f;
            }
        }
        return new Fixtures.ConvData(x, y);
    }

    private static int agreement(Int8Model m, float[] fp32, float[][] x, int classes) {
        int agree = 0;
        for (int r = 0; r < x.length; r++) {
            agree += m.predict(x[r]) == Evaluation.argmax(java.util.Arrays.copyOfRange(fp32, r * classes,
                    (r + 1) * classes)) ? 1 : 0;
        }
        return agree;
    }

    /**
     * A dense layer 1 → 2 with W = (2, 3), b = (1, −1), then batch norm with γ = (2, 1), β = (0.5, 0), μ = (1, 0),
     * σ² = (3, 0.25): k = γ / √(σ² + ε), so W' = (2·k0, 3·k1) and b' = ((1 − 1)·k0 + 0.5, (−1 − 0)·k1 + 0) =
     * (0.5, −k1).
     */
    @Test
    void batchNormFoldsIntoTheLayerBeforeIt() {
        MultiLayerNetwork net = new NetworkSpec(new int[] {1}, 2, List.of(LayerSpec.dense(2).withActivation("identity"),
                LayerSpec.batchNorm())).newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        var bn = net.getLayer(1);
        double eps = ((org.deeplearning4j.nn.conf.layers.BatchNormalization) bn.conf().getLayer()).getEps();
        bn.setParam(BatchNormalizationParamInitializer.GAMMA, Nd4j.createFromArray(new float[][] {{2, 1}}));
        bn.setParam(BatchNormalizationParamInitializer.BETA, Nd4j.createFromArray(new float[][] {{0.5f, 0}}));
        bn.setParam(BatchNormalizationParamInitializer.GLOBAL_MEAN, Nd4j.createFromArray(new float[][] {{1, 0}}));
        if (bn.paramTable().containsKey(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)) {
            // DL4J's log-std form: log10 √σ², without ε (it adds ε at inference).
            bn.setParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD, Nd4j.createFromArray(new float[][] {{
                (float) Math.log10(Math.sqrt(3)), (float) Math.log10(Math.sqrt(0.25))}}));
        } else {
            bn.setParam(BatchNormalizationParamInitializer.GLOBAL_VAR, Nd4j.createFromArray(new float[][] {{3, 0.25f}}));
        }
        float[] w = {2, 3};
        float[] b = {1, -1};
        Int8Exporter.fold(bn, w, b, 2, 0, 1);
        double k0 = 2 / Math.sqrt(3 + eps);
        double k1 = 1 / Math.sqrt(0.25 + eps);
        assertThat(w[0]).isCloseTo((float) (2 * k0), within(1e-5f));
        assertThat(w[1]).isCloseTo((float) (3 * k1), within(1e-5f));
        assertThat(b[0]).isCloseTo(0.5f, within(1e-6f));
        assertThat(b[1]).isCloseTo((float) -k1, within(1e-5f));
        // The folded layer computes what dense + batch norm compute in inference.
        net.getLayer(0).setParam(DefaultParamInitializer.WEIGHT_KEY, Nd4j.createFromArray(new float[][] {{2, 3}}));
        net.getLayer(0).setParam(DefaultParamInitializer.BIAS_KEY, Nd4j.createFromArray(new float[][] {{1, -1}}));
        float[] activations = FlatArrays.of(net.feedForward(Nd4j.createFromArray(new float[][] {{0.7f}}), false).get(2));
        assertThat(activations[0]).isCloseTo(w[0] * 0.7f + b[0], within(1e-4f));
        assertThat(activations[1]).isCloseTo(w[1] * 0.7f + b[1], within(1e-4f));
    }

    /**
     * For a dense layer of 3 inputs, a convolution of 2 channels and a depthwise convolution, each followed by
     * a trained batch norm whose first channel has an almost constant input (σ² = 1e-8, where ε decides the
     * scale): the layer with the folded weights alone computes what the layer and its batch norm compute.
     */
    @Test
    void foldedLayersComputeWhatTheLayerAndItsBatchNormCompute() {
        record Case(int[] shape, LayerSpec layer) {
        }
        java.util.Random r = new java.util.Random(5);
        for (Case c : List.of(new Case(new int[] {3}, LayerSpec.dense(4).withActivation("identity")),
                new Case(new int[] {2, 5, 5}, LayerSpec.conv(3, 3).withActivation("identity")),
                new Case(new int[] {2, 5, 5}, LayerSpec.depthwise(3).withActivation("identity")))) {
            NetworkSpec withBn = new NetworkSpec(c.shape(), 2, List.of(c.layer(), LayerSpec.batchNorm()));
            MultiLayerNetwork net = withBn.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 3);
            int features = withBn.featureLength();
            float[][] x = new float[64][features];
            int[] y = new int[64];
            for (int i = 0; i < 64; i++) {
                y[i] = r.nextInt(2);
                for (int j = 0; j < features; j++) {
                    x[i][j] = (float) r.nextGaussian();
                }
            }
            for (int step = 0; step < 20; step++) {
                net.fit(Fixtures.hardLabels(x, y, 2));
            }
            var bn = net.getLayer(1);
            String spread = bn.paramTable().containsKey(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)
                    ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD : BatchNormalizationParamInitializer.GLOBAL_VAR;
            org.nd4j.linalg.api.ndarray.INDArray s = bn.getParam(spread).dup();
            s.putScalar(0, spread.equals(BatchNormalizationParamInitializer.GLOBAL_VAR) ? 1e-8 : Math.log10(1e-4));
            bn.setParam(spread, s);
            float[] w = FlatArrays.of(net.getLayer(0).getParam(DefaultParamInitializer.WEIGHT_KEY));
            float[] b = FlatArrays.of(net.getLayer(0).getParam(DefaultParamInitializer.BIAS_KEY));
            int channels = b.length;
            boolean depthwise = "depthwise".equals(c.layer().type());
            float[] folded = w.clone();
            if (depthwise) {   // [kh, kw, C, 1]: channel c every C values
                float[] byChannel = new float[w.length];
                int taps = w.length / channels;
                for (int t = 0; t < taps; t++) {
                    for (int ch = 0; ch < channels; ch++) {
                        byChannel[ch * taps + t] = w[t * channels + ch];
                    }
                }
                Int8Exporter.fold(bn, byChannel, b, channels, taps, 1);
                for (int t = 0; t < taps; t++) {
                    for (int ch = 0; ch < channels; ch++) {
                        folded[t * channels + ch] = byChannel[ch * taps + t];
                    }
                }
            } else {
                Int8Exporter.fold(bn, folded, b, channels, "conv".equals(c.layer().type()) ? w.length / channels : 0, 1);
            }
            MultiLayerNetwork alone = new NetworkSpec(c.shape(), 2, List.of(c.layer()))
                    .newNetwork(new HintonLoss(1, 0), Fixtures.training(), 3);
            var shape = net.getLayer(0).getParam(DefaultParamInitializer.WEIGHT_KEY).shape();
            alone.getLayer(0).setParam(DefaultParamInitializer.WEIGHT_KEY, Nd4j.create(folded, shape, 'c'));
            alone.getLayer(0).setParam(DefaultParamInitializer.BIAS_KEY, Nd4j.create(b, new long[] {1, channels}, 'c'));
            float[] expected = FlatArrays.of(net.feedForward(Nd4j.create(x), false).get(2));
            float[] actual = FlatArrays.of(alone.feedForward(Nd4j.create(x), false).get(1));
            assertThat(actual).as(c.layer().type()).hasSameSizeAs(expected);
            for (int i = 0; i < actual.length; i++) {
                assertThat(actual[i]).as(c.layer().type() + " value " + i)
                        .isCloseTo(expected[i], within(1e-3f * Math.max(1, Math.abs(expected[i]))));
            }
        }
    }

    /** Post-training quantisation of the MobileNet-style network: int8 file, runtime and ONNX agree with it. */
    @Test
    void mobileBlocksExportAndAgreeWithTheFloatNetwork() throws Exception {
        Fixtures.ConvData train = lines(600, 3);
        Fixtures.ConvData test = lines(300, 4);
        MultiLayerNetwork net = mobile().newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        for (int epoch = 0; epoch < 40; epoch++) {
            net.fit(train.dataSet());
        }
        Int8Model m = Int8Exporter.export(net, Int8Exporter.calibrate(net, train.x()));
        assertThat(m.layers()).extracting(l -> l.getClass().getSimpleName()).containsExactly("ConvLayer",
                "DepthwiseConvLayer", "AvgPoolLayer", "ConvLayer", "AvgPoolLayer", "DenseLayer");
        // Batch norm's 4 values per channel are folded away: the file holds the weights and one bias per channel.
        assertThat(m.parameters()).isEqualTo((4 * 9 + 4) + (4 * 9 + 4) + (8 * 4 + 8) + (8 * 3 + 3));
        float[] fp32 = FlatArrays.of(net.output(Nd4j.create(test.x())));
        assertThat(agreement(m, fp32, test.x(), 3)).as("int8 vs fp32 agreement of 300").isGreaterThanOrEqualTo(294);
        int correct = 0;
        int correctFp32 = 0;
        for (int r = 0; r < 300; r++) {
            correct += m.predict(test.x()[r]) == test.y()[r] ? 1 : 0;
            correctFp32 += Evaluation.argmax(java.util.Arrays.copyOfRange(fp32, r * 3, r * 3 + 3)) == test.y()[r] ? 1 : 0;
        }
        assertThat(correctFp32).as("fp32 accuracy of 300 (chance: 100)").isGreaterThan(150);
        assertThat(correct).as("int8 accuracy of 300").isCloseTo(correctFp32, within(6));
        float[][] ort = TestOnnxExporter.run(OnnxExporter.export(m, "test"), test.x());
        int agree = 0;
        double maxDiff = 0;
        for (int r = 0; r < 300; r++) {
            float[] rt = m.logits(test.x()[r]);
            agree += Evaluation.argmax(rt) == Evaluation.argmax(ort[r]) ? 1 : 0;
            for (int c = 0; c < 3; c++) {
                maxDiff = Math.max(maxDiff, Math.abs(rt[c] - ort[r][c]));
            }
        }
        assertThat(agree).as("ONNX Runtime vs int8 runtime, of 300").isGreaterThanOrEqualTo(298);
        // ONNX Runtime fuses the pooling's dequantise-average-quantise into its own integer kernel, whose rounding
        // of a mean can differ by one code: a logit then moves by one weight step.
        assertThat(maxDiff).as("largest logit difference").isLessThan(0.1);
    }

    /**
     * Quantisation-aware training of the same network: batch norm carries the activation quantiser, its
     * convolution none; the int8 file computes what the fake-quantised network computes.
     */
    @Test
    void quantisationAwareMobileBlocksExportWhatTheyTrained() {
        // The input quantiser, then one per batch norm and none on the layers folded into them.
        assertThat(quantisedAgreement(mobile(), 4)).as("int8 vs fake-quantised agreement of 300")
                .isGreaterThanOrEqualTo(294);
    }

    /**
     * Trains {@code spec} quantisation-aware for 40 steps on {@link #lines}, checks it has {@code quantisers}
     * activation quantisers, exports it, and returns on how many of 300 test images the int8 model predicts what
     * the fake-quantised network predicts.
     */
    static int quantisedAgreement(NetworkSpec spec, int quantisers) {
        Fixtures.ConvData train = lines(600, 3);
        Fixtures.ConvData test = lines(300, 4);
        NetworkSpec q = spec.withQuantisation(new QuantisationSettings(true, 8, 0, 0.9));
        MultiLayerNetwork net = q.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        assertThat(Qat.quantisers(net)).hasSize(quantisers);
        Qat qat = Qat.of(q);
        DataSet ds = train.dataSet();
        for (int step = 0; step < 40; step++) {
            qat.beforeStep(net, step);
            net.fit(ds);
            qat.afterStep(net, step);
        }
        Int8Model m = Int8Exporter.exportQuantised(net, 8);
        float[] fake = FlatArrays.of(qat.fakeQuantised(net).output(Nd4j.create(test.x())));
        return agreement(m, fake, test.x(), 3);
    }

    @Test
    void batchNormThatCannotBeFoldedIsNamed() {
        MultiLayerNetwork net = new NetworkSpec(new int[] {1, 4, 4}, 2, List.of(LayerSpec.conv(2, 3),
                LayerSpec.batchNorm())).newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        assertThatThrownBy(() -> Int8Exporter.export(net, Int8Exporter.calibrate(net, new float[][] {new float[16]})))
                .hasMessage("layer 1 is a batch normalisation after layer 0, whose activation is relu; it can be folded"
                        + " into that layer only when the layer's activation is identity (conv, batch-norm, then the"
                        + " activation on the batch norm)");
    }
}
