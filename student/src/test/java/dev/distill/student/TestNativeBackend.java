package dev.distill.student;

import dev.distill.student.loss.HintonLoss;
import dev.distill.student.loss.PackedTargets;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class TestNativeBackend {
    private static final List<LayerSpec> CNN = List.of(LayerSpec.conv(4, 3), LayerSpec.batchNorm(),
            LayerSpec.pool("max", 2), LayerSpec.conv(6, 3), LayerSpec.pool("avg", 2), LayerSpec.dense(12));

    @Test
    void theAvx2BuildNeedsAvx2AndFma() {
        assertThat(NativeBackend.supportsAvx2("flags\t\t: fpu sse4_2 avx avx2 fma bmi2 avx512f")).isTrue();
        assertThat(NativeBackend.supportsAvx2("flags\t\t: fpu sse4_2 avx fma")).isFalse();
        assertThat(NativeBackend.supportsAvx2("flags\t\t: fpu sse4_2 avx avx2")).isFalse();
        assertThat(NativeBackend.supportsAvx2("fpu avx2 fma")).isTrue();
    }

    /** On a CPU without AVX2 the plain build is chosen; a property the user set is left alone. */
    @Test
    void aCpuWithoutAvx2GetsThePlainBuild() {
        String saved = System.getProperty(NativeBackend.EXTENSION);
        try {
            System.clearProperty(NativeBackend.EXTENSION);
            NativeBackend.prepare("flags : fpu sse4_2 avx");
            assertThat(System.getProperty(NativeBackend.EXTENSION)).isEqualTo("");
            System.setProperty(NativeBackend.EXTENSION, "-avx512");
            NativeBackend.prepare("flags : fpu sse4_2 avx");
            assertThat(System.getProperty(NativeBackend.EXTENSION)).isEqualTo("-avx512");
            System.clearProperty(NativeBackend.EXTENSION);
            NativeBackend.prepare("flags : fpu avx2 fma");
            assertThat(System.getProperty(NativeBackend.EXTENSION)).isNull();
        } finally {
            if (saved == null) {
                System.clearProperty(NativeBackend.EXTENSION);
            } else {
                System.setProperty(NativeBackend.EXTENSION, saved);
            }
        }
    }

    /**
     * This JVM loaded the build its CPU calls for, DL4J's convolution and pooling layers use the oneDNN helper,
     * and batch norm our kernel.
     */
    @Test
    void theBuildForThisCpuIsLoadedAndConvolutionsUseTheHelper() {
        NativeBackend.prepare();
        String flags = NativeBackend.cpuFlags();
        String expected = flags == null || NativeBackend.supportsAvx2(flags) ? "linux-x86_64-onednn-avx2" : "linux-x86_64,";
        assertThat(NativeBackend.describe()).startsWith("nd4j-native " + expected).endsWith("DL4J layer helpers on");
        MultiLayerNetwork net = network(true);
        assertThat(net.getLayer(0).getHelper()).isInstanceOf(MKLDNNConvHelper.class);
        // Batch norm runs our kernel in the place of DL4J's oneDNN helper (see BatchNormKernel).
        assertThat(net.getLayer(1).getHelper()).isInstanceOf(dev.distill.student.layers.BatchNormKernel.class);
        assertThat(net.getLayer(2).getHelper()).isInstanceOf(org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper.class);
        assertThat(net.getLayer(4).getHelper()).isInstanceOf(org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper.class);
        assertThat(network(false).getLayer(0).getHelper()).isNull();
    }

    /**
     * The fallback itself: a JVM told to load the plain build (as {@link NativeBackend#prepare()} tells it on a
     * CPU without AVX2) loads it and trains.
     */
    @Test
    void thePlainBuildLoadsWhenTheEmptyExtensionIsChosen() throws Exception {
        File log = File.createTempFile("native-backend", ".out");
        log.deleteOnExit();
        Process p = new ProcessBuilder(new File(System.getProperty("java.home"), "bin/java").getPath(),
                "-D" + NativeBackend.EXTENSION + "=", "-cp", System.getProperty("java.class.path"),
                Probe.class.getName()).redirectErrorStream(true).redirectOutput(log).start();
        boolean ended = p.waitFor(300, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = java.nio.file.Files.readString(log.toPath(), StandardCharsets.UTF_8);
        assertThat(ended).as(out).isTrue();
        assertThat(out).as(out).contains("nd4j-native linux-x86_64, DL4J layer helpers on", "trained: true");
    }

    /**
     * oneDNN's convolution, batch normalisation and pooling give the outputs and gradients of DL4J's own
     * implementation, for the same parameters (float32 sums in another order: equal to 1e-4).
     */
    @Test
    void helpersComputeWhatTheBuiltInLayersCompute() {
        MultiLayerNetwork with = network(true);
        MultiLayerNetwork without = network(false);
        without.setParams(with.params().dup());
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 100);
        INDArray y = targets(16);
        assertThat(maxDiff(with.output(x, false), without.output(x, false))).isLessThan(1e-4);
        INDArray g1 = gradient(with, x, y);
        INDArray g2 = gradient(without, x, y);
        assertThat(g1.norm2Number().doubleValue()).isGreaterThan(1e-3);
        assertThat(maxDiff(g1, g2) / g2.amaxNumber().doubleValue()).isLessThan(1e-4);
    }

    private static INDArray gradient(MultiLayerNetwork net, INDArray x, INDArray y) {
        net.setInput(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        return net.gradient().gradient().dup();
    }

    private static double maxDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    private static INDArray targets(int n) {
        int w = PackedTargets.width(10);
        float[] t = new float[n * w];
        float[] logits = new float[10];
        for (int i = 0; i < n; i++) {
            logits[i % 10] = 2;
            PackedTargets.pack(logits, (i * 3) % 10, 10, t, i * w);
            logits[i % 10] = 0;
        }
        return Nd4j.create(t, new long[] {n, w});
    }

    /** A small CNN on 1x10x10 inputs, built with the helpers enabled or disabled. */
    static MultiLayerNetwork network(boolean helpers) {
        String saved = System.getProperty(NativeBackend.HELPERS_DISABLE);
        System.setProperty(NativeBackend.HELPERS_DISABLE, Boolean.toString(!helpers));
        try {
            return new NetworkSpec(new int[] {1, 10, 10}, 10, CNN).newNetwork(new HintonLoss(2, 0.5), Fixtures.training(), 5);
        } finally {
            System.setProperty(NativeBackend.HELPERS_DISABLE, saved == null ? "false" : saved);
        }
    }

    /**
     * Run in a child JVM: prepares, limits threads first thing (as an executor's first task does, before
     * anything else has loaded ND4J), prints the backend, and trains one step.
     */
    public static final class Probe {
        public static void main(String[] args) {
            NativeBackend.prepare();
            dev.distill.student.spark.NetworkPool.limitThreads(1);
            System.out.println(NativeBackend.describe());
            MultiLayerNetwork net = network(true);
            INDArray before = net.params().dup();
            net.fit(Nd4j.rand(DataType.FLOAT, 8, 100), targets(8));
            System.out.println("trained: " + !before.equals(net.params()));
        }
    }
}
