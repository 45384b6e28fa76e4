package dev.distill.student.export;

import dev.distill.runtime.Int8Model;
import dev.distill.runtime.ModelFile;
import dev.distill.student.Evaluation;
import dev.distill.student.Fixtures;
import dev.distill.student.FlatArrays;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.layers.ResidualAdd;
import dev.distill.student.layers.ResidualStart;
import dev.distill.student.loss.HintonLoss;
import dev.distill.student.quant.Qat;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Residual blocks: the two DL4J layers that carry the skip connection inside a MultiLayerNetwork (their
 * gradients against finite differences), and the block in the int8 file, the runtime and the ONNX export.
 */
public class TestResidualBlocks {
    /** {@link TestMobileBlocks#mobile()} with a residual block (depthwise → BN → ReLU, pointwise → BN) after its first conv. */
    public static NetworkSpec residualMobile() {
        return new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                LayerSpec.conv(4, 3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.residualStart(),
                LayerSpec.depthwise(3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.conv(4, 1).withActivation("identity"),
                LayerSpec.batchNorm(),
                LayerSpec.residualAdd("relu"),
                LayerSpec.pool("avg", 2),
                LayerSpec.conv(8, 1).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.globalPool()));
    }

    /**
     * Two nested blocks over a 2×4×4 map, in double precision, no batch norm (its batch statistics are not a
     * function of one example): every parameter's gradient against central differences.
     */
    @Test
    void gradientsOfNestedBlocksMatchFiniteDifferences() {
        DataType before = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            checkNestedGradients();
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    private static void checkNestedGradients() {
        Nd4j.getRandom().setSeed(7);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(7).dataType(DataType.DOUBLE).updater(new NoOp()).weightInit(WeightInit.XAVIER)
                .convolutionMode(ConvolutionMode.Same)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.TANH).build())
                .layer(new ResidualStart.Builder().block(0).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.TANH).build())
                .layer(new ResidualStart.Builder().block(1).build())
                .layer(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).activation(Activation.TANH).build())
                .layer(new ResidualAdd.Builder().block(1).activation(Activation.TANH.getActivationFunction()).build())
                .layer(new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.IDENTITY).build())
                .layer(new ResidualAdd.Builder().block(0).activation(Activation.SOFTPLUS.getActivationFunction()).build())
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
                .layer(new DenseLayer.Builder().nOut(3).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(4, 4, 2))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, 2, 4, 4).subi(0.5);
        INDArray y = Nd4j.create(new double[][] {{1, 0}, {0, 1}, {1, 0}});
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x).labels(y)
                .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9).exitOnFirstError(true));
        assertThat(ok).as("analytic gradients equal central differences").isTrue();
    }

    @Test
    void theAddSumsTheBlocksInputAndOutputThenItsActivation() {
        MultiLayerNetwork net = residualMobile().newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        net.fit(TestMobileBlocks.lines(64, 1).dataSet());   // batch norm statistics other than their start
        INDArray x = Nd4j.create(TestMobileBlocks.lines(5, 2).x());
        List<INDArray> acts = net.feedForward(x, false);
        // DL4J layers: conv 0, BN 1, ReLU 2, start 3, depthwise 4, BN 5, ReLU 6, conv 7, BN 8, add 9
        assertThat(net.getLayer(3).conf().getLayer()).isInstanceOf(ResidualStart.class);
        assertThat(net.getLayer(9).conf().getLayer()).isInstanceOf(ResidualAdd.class);
        INDArray expected = org.nd4j.linalg.ops.transforms.Transforms.relu(acts.get(3).add(acts.get(9)), true);
        assertThat(acts.get(10).equalsWithEps(expected, 1e-6)).isTrue();
        assertThat(acts.get(4).equalsWithEps(acts.get(3), 0)).as("the start passes its input on").isTrue();
        // A copy through JSON computes the same.
        MultiLayerNetwork copy = Qat.copy(net);
        assertThat(copy.getLayerWiseConfigurations()).isEqualTo(net.getLayerWiseConfigurations());
        assertThat(copy.output(x).equalsWithEps(net.output(x), 1e-6)).isTrue();
    }

    /** Post-training quantisation: the add is a layer of the int8 file, and runtime, file and ONNX Runtime agree. */
    @Test
    void residualBlocksExportAndAgreeWithTheFloatNetwork() throws Exception {
        Fixtures.ConvData train = TestMobileBlocks.lines(600, 3);
        Fixtures.ConvData test = TestMobileBlocks.lines(300, 4);
        MultiLayerNetwork net = residualMobile().newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        for (int epoch = 0; epoch < 80; epoch++) {
            net.fit(train.dataSet());
        }
        Int8Model m = Int8Exporter.export(net, Int8Exporter.calibrate(net, train.x()));
        assertThat(m.layers()).extracting(l -> l.getClass().getSimpleName()).containsExactly("ConvLayer",
                "DepthwiseConvLayer", "ConvLayer", "ResidualAddLayer", "AvgPoolLayer", "ConvLayer", "AvgPoolLayer",
                "DenseLayer");
        assertThat(((dev.distill.runtime.ResidualAddLayer) m.layers().get(3)).start()).isEqualTo(1);
        float[] fp32 = FlatArrays.of(net.output(Nd4j.create(test.x())));
        int agree = 0;
        int correct = 0;
        int correctFp32 = 0;
        for (int r = 0; r < 300; r++) {
            int f = Evaluation.argmax(java.util.Arrays.copyOfRange(fp32, r * 3, r * 3 + 3));
            agree += m.predict(test.x()[r]) == f ? 1 : 0;
            correct += m.predict(test.x()[r]) == test.y()[r] ? 1 : 0;
            correctFp32 += f == test.y()[r] ? 1 : 0;
        }
        assertThat(correctFp32).as("fp32 accuracy of 300 (chance: 100)").isGreaterThan(150);
        assertThat(agree).as("int8 vs fp32 agreement of 300").isGreaterThanOrEqualTo(294);
        assertThat(correct).as("int8 accuracy of 300").isCloseTo(correctFp32, within(6));

        ByteArrayOutputStream file = new ByteArrayOutputStream();
        ModelFile.write(m, file);
        assertThat(file.toByteArray()[4]).as("file format version").isEqualTo((byte) 4);
        Int8Model read = ModelFile.read(new ByteArrayInputStream(file.toByteArray()), "m.int8");
        for (int r = 0; r < 300; r++) {
            assertThat(read.logits(test.x()[r])).containsExactly(m.logits(test.x()[r]));
        }

        float[][] ort = TestOnnxExporter.run(OnnxExporter.export(m, "test"), test.x());
        int agreeOrt = 0;
        int same = 0;
        double maxDiff = 0;
        for (int r = 0; r < 300; r++) {
            float[] rt = m.logits(test.x()[r]);
            agreeOrt += Evaluation.argmax(rt) == Evaluation.argmax(ort[r]) ? 1 : 0;
            double diff = 0;
            for (int c = 0; c < 3; c++) {
                diff = Math.max(diff, Math.abs(rt[c] - ort[r][c]));
            }
            same += diff < 1e-4 ? 1 : 0;
            maxDiff = Math.max(maxDiff, diff);
        }
        assertThat(agreeOrt).as("ONNX Runtime vs int8 runtime, of 300").isGreaterThanOrEqualTo(298);
        // ONNX Runtime fuses dequantise-op-quantise into integer kernels of its own (add, average pooling), whose
        // rounding can put a value one code away; a logit then moves by a few weight steps (242 of 300 rows were
        // identical to 1e-4, the largest difference 0.105).
        assertThat(same).as("rows with identical logits").isGreaterThan(150);
        assertThat(maxDiff).as("largest logit difference").isLessThan(0.25);
    }

    /**
     * A block on the raw image (before any layer: the flat input becomes a map at the block's start) and a block
     * of dense layers after global pooling (in ONNX, its input is the flattened vector, as the add's other side).
     */
    @Test
    void blocksAtTheInputAndAfterGlobalPoolingExport() throws Exception {
        Fixtures.ConvData train = TestMobileBlocks.lines(600, 3);
        Fixtures.ConvData test = TestMobileBlocks.lines(300, 4);
        NetworkSpec spec = new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                LayerSpec.residualStart(), LayerSpec.conv(1, 3).withActivation("identity"), LayerSpec.residualAdd("relu"),
                LayerSpec.conv(6, 3), LayerSpec.globalPool(),
                LayerSpec.residualStart(), LayerSpec.dense(6), LayerSpec.residualAdd("identity")));
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        for (int epoch = 0; epoch < 80; epoch++) {
            net.fit(train.dataSet());
        }
        Int8Model m = Int8Exporter.export(net, Int8Exporter.calibrate(net, train.x()));
        assertThat(m.layers()).extracting(l -> l.getClass().getSimpleName()).containsExactly("ConvLayer",
                "ResidualAddLayer", "ConvLayer", "AvgPoolLayer", "DenseLayer", "ResidualAddLayer", "DenseLayer");
        float[] fp32 = FlatArrays.of(net.output(Nd4j.create(test.x())));
        float[][] ort = TestOnnxExporter.run(OnnxExporter.export(m, "test"), test.x());
        int agree = 0;
        int agreeOrt = 0;
        int correct = 0;
        for (int r = 0; r < 300; r++) {
            int p = m.predict(test.x()[r]);
            agree += p == Evaluation.argmax(java.util.Arrays.copyOfRange(fp32, r * 3, r * 3 + 3)) ? 1 : 0;
            agreeOrt += p == Evaluation.argmax(ort[r]) ? 1 : 0;
            correct += p == test.y()[r] ? 1 : 0;
        }
        assertThat(correct).as("int8 accuracy of 300 (chance: 100)").isGreaterThan(150);
        assertThat(agree).as("int8 vs fp32 agreement of 300").isGreaterThanOrEqualTo(294);
        assertThat(agreeOrt).as("ONNX Runtime vs int8 runtime, of 300").isGreaterThanOrEqualTo(298);
    }

    /** Quantisation-aware training puts a quantiser on the add; the int8 file computes the fake-quantised network. */
    @Test
    void quantisationAwareResidualBlocksExportWhatTheyTrained() {
        // The input, the four batch norms and the add.
        assertThat(TestMobileBlocks.quantisedAgreement(residualMobile(), 6)).as("int8 vs fake-quantised agreement of 300")
                .isGreaterThanOrEqualTo(294);
    }

    @Test
    void anAddWithoutItsStartIsAnErrorNotAWrongSum() {
        MultiLayerNetwork net = residualMobile().newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        INDArray x = Nd4j.create(TestMobileBlocks.lines(2, 2).x());
        List<INDArray> acts = net.feedForward(x, false);   // a whole pass: the add took what its start kept
        INDArray blockOutput = acts.get(9);
        var workspace = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
        // Layer 9 (the add) run again alone, as a pass that skipped the block's start would run it.
        assertThatThrownBy(() -> net.getLayer(9).activate(blockOutput, false, workspace))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("residual block 0: the block's input is missing (its other end did not run in this pass on"
                        + " this thread)");
    }
}
