package dev.distill.student.export;

import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.Evaluation;
import dev.distill.student.Fixtures;
import dev.distill.student.loss.HintonLoss;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.distill.runtime.DenseLayer;
import dev.distill.runtime.Int8Model;
import dev.distill.testing.Synthetic;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestOnnxExporter {
    static float[][] run(byte[] onnx, float[][] x) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(onnx, o);
                 OnnxTensor in = OnnxTensor.createTensor(env, x);
                 OrtSession.Result r = s.run(Map.of("input", in))) {
                return (float[][]) r.get(0).getValue();
            }
        }
    }

    /**
     * One hand-made layer, 2 inputs → 2 outputs, identity: input scale 2/255, zero point 128; codes
     * [[127, −64], [−64, 127]] (channel-major), scales (0.5/127, 0.2/127); biases (9716, −4048). For input
     * (0.5, −0.25): q = rint(63.75) + 128 = 192 and rint(−31.875) + 128 = 96, i.e. (64, −32) above the zero
     * point; acc0 = 9716 + 127·64 − 64·−32 = 19892, logit0 = 19892 · (2/255 · 0.5/127); acc1 = −4048 − 64·64
     * + 127·−32 = −12208, logit1 = −12208 · (2/255 · 0.2/127).
     */
    @Test
    void theOnnxGraphComputesTheHandDerivedLogits() throws Exception {
        Int8Model m = new Int8Model(2, 2f / 255, 128, List.of(new DenseLayer(2, 2, DenseLayer.Activation.IDENTITY,
                new float[] {0.5f / 127, 0.2f / 127}, new byte[] {127, -64, -64, 127}, new int[] {9716, -4048}, 0f, 0)));
        float[][] out = run(OnnxExporter.export(m, "test"), new float[][] {{0.5f, -0.25f}});
        assertThat(out[0][0]).isCloseTo(19892 * (2f / 255 * 0.5f / 127), within(1e-5f));
        assertThat(out[0][1]).isCloseTo(-12208 * (2f / 255 * 0.2f / 127), within(1e-5f));
        assertThat(m.logits(new float[] {0.5f, -0.25f})).containsExactly(out[0], within(1e-5f));
    }

    @Test
    void onnxRuntimeAgreesWithTheInt8RuntimeOnATrainedNetwork() throws Exception {
        Synthetic.Blobs train = Synthetic.blobs(600, 8, 3, 0.7, 21);
        Synthetic.Blobs test = Synthetic.blobs(500, 8, 3, 0.7, 22);
        NetworkSpec spec = new NetworkSpec(new int[] {8}, 3, List.of(
                LayerSpec.dense(16),
                LayerSpec.dense(12).withActivation("identity")));
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        DataSet ds = Fixtures.hardLabels(train.x(), train.y(), 3);
        for (int epoch = 0; epoch < 40; epoch++) {
            net.fit(ds);
        }
        Int8Model m = Int8Exporter.export(net, Int8Exporter.calibrate(net, train.x()));
        float[][] ort = run(OnnxExporter.export(m, "test"), test.x());
        int agree = 0;
        double maxDiff = 0;
        for (int r = 0; r < 500; r++) {
            float[] rt = m.logits(test.x()[r]);
            agree += Evaluation.argmax(rt) == Evaluation.argmax(ort[r]) ? 1 : 0;
            for (int c = 0; c < 3; c++) {
                maxDiff = Math.max(maxDiff, Math.abs(rt[c] - ort[r][c]));
            }
        }
        assertThat(agree).as("ONNX Runtime vs int8 runtime, of 500").isGreaterThanOrEqualTo(498);
        assertThat(maxDiff).as("largest logit difference").isLessThan(0.05);
    }

    /** Convolution, max pooling and a valid convolution: ONNX Runtime and the int8 runtime agree. */
    @Test
    void convolutionalModelsAgreeToo() throws Exception {
        Fixtures.ConvData train = Fixtures.ConvData.of(400, 3);
        Fixtures.ConvData test = Fixtures.ConvData.of(300, 5);
        NetworkSpec spec = new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                LayerSpec.conv(4, 3),
                LayerSpec.pool("max", 2),
                LayerSpec.conv(6, 2).withPadding("valid")));
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        for (int epoch = 0; epoch < 20; epoch++) {
            net.fit(train.dataSet());
        }
        Int8Model m = Int8Exporter.export(net, Int8Exporter.calibrate(net, train.x()));
        float[][] ort = run(OnnxExporter.export(m, "test"), test.x());
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
        assertThat(maxDiff).as("largest logit difference").isLessThan(0.05);
    }
}
