package dev.distill.student.layers;

import dev.distill.student.Fixtures;
import dev.distill.student.LayerSpec;
import dev.distill.student.NativeBackend;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import dev.distill.student.loss.DistillationLosses;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The batch norm kernel against numbers derived by hand, and against DL4J's own batch norm (the layer without
 * a helper), through whole convolutional and dense networks: activations, every gradient, and parameters and
 * running statistics after training steps.
 */
class TestBatchNormKernel {
    @BeforeAll
    static void helpersOn() {
        NativeBackend.prepare();
    }

    private static final TrainingSettings SGD = new TrainingSettings(1, 16, 1, 1, "sgd", 0.1, 0.9, "constant", 1, 1, 0, 1);

    /**
     * One channel of four values 1, 3, 5, 7 (N = 2, 1×2 maps), γ = 2, β = 0.5, ε = 0: μ = 4, σ² = 5, so y =
     * 2·(x − 4)/√5 + 0.5. Backward with dL/dy = (1, 0, 0, 0): dβ = 1, dγ = Σ g·x̂ = −3/√5, and dL/dx =
     * γ/σ·(g − dβ/4 − x̂·dγ/4) = (2/√5)·(0.3, −0.4, −0.1, 0.2).
     */
    @Test
    void forwardAndBackwardAsDerivedByHand() {
        BatchNormKernel kernel = new BatchNormKernel();
        INDArray x = Nd4j.createFromArray(1f, 3f, 5f, 7f).reshape(2, 1, 1, 2);
        INDArray gamma = Nd4j.createFromArray(2f).reshape(1, 1);
        INDArray beta = Nd4j.createFromArray(0.5f).reshape(1, 1);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray y = kernel.preOutput(x, true, x.shape(), gamma, beta, null, null, 0.9, 0, CNN2DFormat.NCHW, mgr);
        double s = Math.sqrt(5);
        assertThat(y.ravel().toFloatVector()).containsExactly(new float[] {(float) (-6 / s + 0.5), (float) (-2 / s + 0.5),
                (float) (2 / s + 0.5), (float) (6 / s + 0.5)}, within(1e-6f));
        assertThat(kernel.getMeanCache(DataType.FLOAT).toFloatVector()).containsExactly(4f);
        assertThat(kernel.getVarCache(DataType.FLOAT).toFloatVector()).containsExactly(5f);

        INDArray dGamma = Nd4j.zeros(DataType.FLOAT, 1, 1);
        INDArray dBeta = Nd4j.zeros(DataType.FLOAT, 1, 1);
        INDArray g = Nd4j.createFromArray(1f, 0f, 0f, 0f).reshape(2, 1, 1, 2);
        Pair<Gradient, INDArray> back = kernel.backpropGradient(x, g, x.shape(), gamma, beta, dGamma, dBeta, 0,
                CNN2DFormat.NCHW, mgr);
        assertThat(dBeta.getFloat(0)).isCloseTo(1f, within(1e-6f));
        assertThat(dGamma.getFloat(0)).isCloseTo((float) (-3 / s), within(1e-6f));
        float k = (float) (2 / s);
        assertThat(back.getSecond().ravel().toFloatVector()).containsExactly(new float[] {0.3f * k, -0.4f * k, -0.1f * k,
                0.2f * k}, within(1e-6f));
        assertThat(back.getFirst().getGradientFor(BatchNormalizationParamInitializer.GAMMA)).isSameAs(dGamma);

        // Inference uses the running statistics it is given: μ = 1, σ² = 4 → y = 2·(x − 1)/2 + 0.5 = x − 0.5.
        INDArray yTest = kernel.preOutput(x, false, x.shape(), gamma, beta, Nd4j.createFromArray(1f).reshape(1, 1),
                Nd4j.createFromArray(4f).reshape(1, 1), 0.9, 0, CNN2DFormat.NCHW, mgr);
        assertThat(yTest.ravel().toFloatVector()).containsExactly(new float[] {0.5f, 2.5f, 4.5f, 6.5f}, within(1e-6f));
    }

    /**
     * Doubles, NHWC maps and rank-2 arrays (DL4J itself reshapes dense inputs to [N, C, 1, 1]) are left to
     * DL4J: the forward pass returns null. Backward before any forward pass is an error.
     */
    @Test
    void otherTypesRanksAndLayoutsAreLeftToDl4j() {
        BatchNormKernel kernel = new BatchNormKernel();
        INDArray gamma = Nd4j.ones(DataType.FLOAT, 1, 2);
        INDArray beta = Nd4j.zeros(DataType.FLOAT, 1, 2);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray doubles = Nd4j.rand(DataType.DOUBLE, 3, 2, 2, 2);
        INDArray flat = Nd4j.rand(DataType.FLOAT, 3, 2);
        INDArray map = Nd4j.rand(DataType.FLOAT, 3, 2, 2, 2);
        assertThat(kernel.preOutput(doubles, true, doubles.shape(), gamma, beta, null, null, 0.9, 1e-5,
                CNN2DFormat.NCHW, mgr)).isNull();
        assertThat(kernel.preOutput(flat, true, flat.shape(), gamma, beta, null, null, 0.9, 1e-5, CNN2DFormat.NCHW,
                mgr)).isNull();
        assertThat(kernel.preOutput(map, true, map.shape(), gamma, beta, null, null, 0.9, 1e-5, CNN2DFormat.NHWC,
                mgr)).isNull();
        assertThatThrownBy(() -> kernel.backpropGradient(map, map, map.shape(), gamma, beta, gamma.dup(), beta.dup(),
                1e-5, CNN2DFormat.NCHW, mgr)).hasMessage("batch norm: backward pass before any forward pass");
    }

    /**
     * Backward after a forward pass in inference mode holds the running statistics constant: with μ = 1,
     * σ² = 4, γ = 2 and dL/dy = (1, 0, 0, 2) over x = (1, 3, 5, 7), dL/dx = γ/σ·g = (1, 0, 0, 2), dβ = 3, dγ =
     * Σ g·(x − 1)/2 = 0 + 2·3 = 6; the caches then hold the running statistics, so the layer's update of them
     * is zero.
     */
    @Test
    void backwardAfterAnInferencePassHoldsTheRunningStatisticsConstant() {
        BatchNormKernel kernel = new BatchNormKernel();
        INDArray x = Nd4j.createFromArray(1f, 3f, 5f, 7f).reshape(2, 1, 1, 2);
        INDArray gamma = Nd4j.createFromArray(2f).reshape(1, 1);
        INDArray beta = Nd4j.createFromArray(0.5f).reshape(1, 1);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        kernel.preOutput(x, true, x.shape(), gamma, beta, null, null, 0.9, 0, CNN2DFormat.NCHW, mgr);
        kernel.preOutput(x, false, x.shape(), gamma, beta, Nd4j.createFromArray(1f).reshape(1, 1),
                Nd4j.createFromArray(4f).reshape(1, 1), 0.9, 0, CNN2DFormat.NCHW, mgr);
        assertThat(kernel.getMeanCache(DataType.FLOAT).toFloatVector()).containsExactly(1f);
        assertThat(kernel.getVarCache(DataType.FLOAT).toFloatVector()).containsExactly(4f);
        INDArray dGamma = Nd4j.zeros(DataType.FLOAT, 1, 1);
        INDArray dBeta = Nd4j.zeros(DataType.FLOAT, 1, 1);
        INDArray g = Nd4j.createFromArray(1f, 0f, 0f, 2f).reshape(2, 1, 1, 2);
        INDArray dx = kernel.backpropGradient(x, g, x.shape(), gamma, beta, dGamma, dBeta, 0, CNN2DFormat.NCHW, mgr)
                .getSecond();
        assertThat(dx.ravel().toFloatVector()).containsExactly(new float[] {1f, 0f, 0f, 2f}, within(1e-6f));
        assertThat(dBeta.getFloat(0)).isCloseTo(3f, within(1e-6f));
        assertThat(dGamma.getFloat(0)).isCloseTo(6f, within(1e-6f));
    }

    /**
     * A pass depends on no earlier one but through the statistics it is meant to use: a batch of 3 after a
     * training pass and an inference pass over a batch of 5 gives exactly what a fresh kernel gives, forward
     * and backward, and leaves the incoming gradient as it was. The maps sit far from zero (mean 1000, spread
     * 1), where Σ g·x − μ·Σ g in float would cancel: dγ and dβ match sums in double to 1e-4 of their size.
     */
    @Test
    void passesGiveWhatAFreshKernelGivesAndCentreBeforeMultiplying() {
        Random r = new Random(11);
        INDArray gamma = Nd4j.createFromArray(1.5f, 0.7f).reshape(1, 2);
        INDArray beta = Nd4j.createFromArray(0.2f, -0.3f).reshape(1, 2);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray big = Nd4j.create(randomMaps(r, 5 * 2 * 3 * 3, 1000), new long[] {5, 2, 3, 3}, 'c');
        INDArray small = Nd4j.create(randomMaps(r, 3 * 2 * 3 * 3, 1000), new long[] {3, 2, 3, 3}, 'c');
        INDArray gBig = Nd4j.create(randomMaps(r, (int) big.length(), 0), big.shape(), 'c');
        INDArray gSmall = Nd4j.create(randomMaps(r, (int) small.length(), 0), small.shape(), 'c');

        float[] gSmallBefore = gSmall.ravel().toFloatVector();
        BatchNormKernel used = new BatchNormKernel();
        used.preOutput(big, true, big.shape(), gamma, beta, null, null, 0.9, 1e-5, CNN2DFormat.NCHW, mgr);
        used.backpropGradient(big, gBig, big.shape(), gamma, beta, Nd4j.zeros(DataType.FLOAT, 1, 2),
                Nd4j.zeros(DataType.FLOAT, 1, 2), 1e-5, CNN2DFormat.NCHW, mgr);
        used.preOutput(big, false, big.shape(), gamma, beta, Nd4j.zeros(DataType.FLOAT, 1, 2),
                Nd4j.ones(DataType.FLOAT, 1, 2), 0.9, 1e-5, CNN2DFormat.NCHW, mgr);
        BatchNormKernel fresh = new BatchNormKernel();
        INDArray dGammaUsed = Nd4j.zeros(DataType.FLOAT, 1, 2);
        INDArray dBetaUsed = Nd4j.zeros(DataType.FLOAT, 1, 2);
        INDArray dGammaFresh = Nd4j.zeros(DataType.FLOAT, 1, 2);
        INDArray dBetaFresh = Nd4j.zeros(DataType.FLOAT, 1, 2);
        INDArray yUsed = used.preOutput(small, true, small.shape(), gamma, beta, null, null, 0.9, 1e-5,
                CNN2DFormat.NCHW, mgr);
        INDArray yFresh = fresh.preOutput(small, true, small.shape(), gamma, beta, null, null, 0.9, 1e-5,
                CNN2DFormat.NCHW, mgr);
        assertThat(yUsed.shape()).containsExactly(3, 2, 3, 3);
        assertThat(yUsed.ravel().toFloatVector()).containsExactly(yFresh.ravel().toFloatVector());
        INDArray dxUsed = used.backpropGradient(small, gSmall, small.shape(), gamma, beta, dGammaUsed, dBetaUsed,
                1e-5, CNN2DFormat.NCHW, mgr).getSecond();
        INDArray dxFresh = fresh.backpropGradient(small, gSmall, small.shape(), gamma, beta, dGammaFresh, dBetaFresh,
                1e-5, CNN2DFormat.NCHW, mgr).getSecond();
        assertThat(dxUsed.ravel().toFloatVector()).containsExactly(dxFresh.ravel().toFloatVector());
        assertThat(dGammaUsed.toFloatVector()).containsExactly(dGammaFresh.toFloatVector());
        assertThat(dBetaUsed.toFloatVector()).containsExactly(dBetaFresh.toFloatVector());
        assertThat(gSmall.ravel().toFloatVector()).as("the incoming gradient is left as it was")
                .containsExactly(gSmallBefore);

        // dγ = Σ g·(x − μ)/σ and dβ = Σ g per channel, in double.
        float[] x = small.ravel().toFloatVector();
        float[] g = gSmall.ravel().toFloatVector();
        for (int c = 0; c < 2; c++) {
            double sum = 0;
            double sumSq = 0;
            double sumG = 0;
            double sumGx = 0;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 9; j++) {
                    sum += x[(i * 2 + c) * 9 + j];
                }
            }
            double mean = sum / 27;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 9; j++) {
                    int at = (i * 2 + c) * 9 + j;
                    sumSq += (x[at] - mean) * (x[at] - mean);
                    sumG += g[at];
                    sumGx += g[at] * (x[at] - mean);
                }
            }
            double dGamma = sumGx / Math.sqrt(sumSq / 27 + 1e-5);
            assertThat((double) dGammaUsed.getFloat(c)).isCloseTo(dGamma, within(1e-4 * Math.abs(dGamma) + 1e-6));
            assertThat((double) dBetaUsed.getFloat(c)).isCloseTo(sumG, within(1e-4 * Math.abs(sumG) + 1e-6));
        }
    }

    private static float[] randomMaps(Random r, int length, double mean) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (mean + r.nextGaussian());
        }
        return values;
    }

    /**
     * A network with batch norm after a convolution, a depthwise convolution and a pointwise one (maps of 16,
     * 8 and 4 channels, γ and β set away from 1 and 0, inputs with a large mean), with the kernel and with
     * DL4J's own batch norm: the same activations in training and inference mode, the same gradient of every
     * parameter, and the same parameters and running statistics after five SGD steps. (Not Adam: the bias of
     * a convolution followed by batch norm has a true gradient of 0, and Adam turns the rounding noise in its
     * place into steps of the full learning rate, differently for any two implementations.)
     */
    @Test
    void convolutionalNetworksTrainAsWithDl4jsOwnBatchNorm() throws Exception {
        trainsAsWithDl4jsOwnBatchNorm(new NetworkSpec(new int[] {2, 8, 8}, 3, List.of(
                LayerSpec.conv(4, 3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.depthwise(3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.conv(6, 1).withActivation("identity"),
                LayerSpec.batchNorm(),
                LayerSpec.globalPool())));
    }

    /** Batch norm after a dense layer, which DL4J hands to the kernel as [N, C, 1, 1] maps. */
    @Test
    void denseNetworksTrainAsWithDl4jsOwnBatchNorm() throws Exception {
        trainsAsWithDl4jsOwnBatchNorm(new NetworkSpec(new int[] {128}, 3, List.of(
                LayerSpec.dense(12).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.dense(6).withActivation("identity"),
                LayerSpec.batchNorm())));
    }

    private static void trainsAsWithDl4jsOwnBatchNorm(NetworkSpec spec) throws Exception {
        MultiLayerNetwork ours = spec.newNetwork(DistillationLosses.hardLabels(), SGD, 3);
        Random r = new Random(5);
        INDArray params = ours.params().dup();
        for (Layer layer : ours.getLayers()) {
            if (layer instanceof BatchNormalization) {
                assertThat(layer.getHelper()).isInstanceOf(BatchNormKernel.class);
                INDArray gamma = layer.getParam(BatchNormalizationParamInitializer.GAMMA);
                INDArray beta = layer.getParam(BatchNormalizationParamInitializer.BETA);
                for (int c = 0; c < gamma.length(); c++) {
                    gamma.putScalar(c, 0.5 + r.nextDouble());
                    beta.putScalar(c, r.nextGaussian());
                }
            }
        }
        params = ours.params().dup();
        MultiLayerNetwork dl4j = spec.newNetwork(DistillationLosses.hardLabels(), SGD, 3);
        dl4j.setParams(params.dup());
        Field helper = BatchNormalization.class.getDeclaredField("helper");
        helper.setAccessible(true);
        for (Layer layer : dl4j.getLayers()) {
            if (layer instanceof BatchNormalization) {
                helper.set(layer, null);
            }
        }
        float[][] x = new float[16][128];
        int[] y = new int[16];
        for (int i = 0; i < x.length; i++) {
            y[i] = r.nextInt(3);
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] = (float) (3 + r.nextGaussian());
            }
        }
        DataSet data = Fixtures.hardLabels(x, y, 3);

        List<INDArray> a = ours.feedForward(data.getFeatures(), true);
        List<INDArray> b = dl4j.feedForward(data.getFeatures(), true);
        for (int l = 0; l < a.size(); l++) {
            assertThat(maxDifference(a.get(l), b.get(l))).as("training-mode activations of layer %d", l).isLessThan(2e-5);
        }
        ours.setInput(data.getFeatures());
        ours.setLabels(data.getLabels());
        dl4j.setInput(data.getFeatures());
        dl4j.setLabels(data.getLabels());
        ours.computeGradientAndScore();
        dl4j.computeGradientAndScore();
        INDArray ga = ours.gradient().gradient();
        INDArray gb = dl4j.gradient().gradient();
        assertThat(gb.norm2Number().doubleValue()).isGreaterThan(1e-3);
        assertThat(maxDifference(ga, gb)).as("every gradient").isLessThan(1e-5 + 1e-4 * gb.amaxNumber().doubleValue());

        for (int step = 0; step < 5; step++) {
            ours.fit(data);
            dl4j.fit(data);
        }
        assertThat(maxDifference(ours.params(), params)).as("training moved the parameters").isGreaterThan(1e-3);
        assertThat(maxDifference(ours.params(), dl4j.params())).as("parameters and running statistics after 5 steps")
                .isLessThan(1e-4);
        assertThat(maxDifference(ours.output(data.getFeatures(), false), dl4j.output(data.getFeatures(), false)))
                .as("inference outputs").isLessThan(1e-5);
        // DL4J catches a helper's exception, counts it and quietly runs its own code from then on: the kernel
        // must have run every pass for the comparison to mean anything.
        Field failures = BatchNormalization.class.getDeclaredField("helperCountFail");
        failures.setAccessible(true);
        for (Layer layer : ours.getLayers()) {
            if (layer instanceof BatchNormalization) {
                assertThat(layer.getHelper()).isInstanceOf(BatchNormKernel.class);
                assertThat(failures.getInt(layer)).as("helper failures of layer %d", layer.getIndex()).isZero();
            }
        }
    }

    private static double maxDifference(INDArray a, INDArray b) {
        return a.castTo(DataType.DOUBLE).sub(b.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    }
}
