package dev.distill.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SIMD inference ({@link SimdInference}) against the scalar one: the same logits, bit for bit, on random
 * models of every layer kind and geometry. The tests' JVM has the Vector API (the build adds the module to it).
 */
class TestSimdInference {
    private static final DenseLayer.Activation[] ACTS = DenseLayer.Activation.values();

    /** A map's shape while a random model is built. */
    private record Shape(int c, int h, int w) {
        int size() {
            return c * h * w;
        }
    }

    /** A window over h × w: kernel, stride, padding (top/left; the bottom/right is drawn too) and output, or null. */
    private static int[] window(Random r, int h, int w, boolean pad) {
        int kh = 1 + r.nextInt(Math.min(5, h + 2)), kw = 1 + r.nextInt(Math.min(5, w + 2));
        int sh = r.nextBoolean() ? 1 : 1 + r.nextInt(3), sw = r.nextBoolean() ? 1 : 1 + r.nextInt(3);
        int pt = pad ? r.nextInt(kh) : 0, pl = pad ? r.nextInt(kw) : 0;
        int pb = pad ? r.nextInt(kh) : 0, pr = pad ? r.nextInt(kw) : 0;
        if (h + pt + pb < kh || w + pl + pr < kw) {
            return null;
        }
        int oh = (h + pt + pb - kh) / sh + 1, ow = (w + pl + pr - kw) / sw + 1;
        if ((long) (oh - 1) * sh - pt >= h || (long) (ow - 1) * sw - pl >= w) {
            return null;
        }
        return new int[] {kh, kw, sh, sw, pt, pl, oh, ow};
    }

    /** The "same" window of stride 1 (the shifted layout of depthwise convolutions), 3×3 half the time. */
    private static int[] same(Random r) {
        boolean three = r.nextBoolean();
        int kh = three ? 3 : 1 + r.nextInt(4), kw = three ? 3 : 1 + r.nextInt(4);
        return new int[] {kh, kw, 1, 1, r.nextInt(kh), r.nextInt(kw)};
    }

    private static byte[] weights(Random r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = r.nextInt(4) == 0 ? 0 : (byte) (r.nextInt(255) - 127);
        }
        return b;
    }

    private static int[] bias(Random r, int n) {
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            b[i] = r.nextInt(40_001) - 20_000;
        }
        return b;
    }

    private static float[] scales(Random r, int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = 0.0005f + r.nextFloat() * 0.01f;
        }
        return s;
    }

    private static float outScale(Random r) {
        return 0.01f + r.nextFloat() * 0.5f;
    }

    private static ConvLayer conv(Random r, Shape in, int[] g, int filters) {
        return new ConvLayer(in.c, in.h, in.w, filters, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                ACTS[r.nextInt(2)], scales(r, filters), weights(r, filters * in.c * g[0] * g[1]), bias(r, filters),
                outScale(r), r.nextInt(256));
    }

    private static DepthwiseConvLayer depthwise(Random r, Shape in, int[] g) {
        return new DepthwiseConvLayer(in.c, in.h, in.w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                ACTS[r.nextInt(2)], scales(r, in.c), weights(r, in.c * g[0] * g[1]), bias(r, in.c), outScale(r),
                r.nextInt(256));
    }

    /**
     * A random model: an input map of 1-5 channels up to 12×12, then 1-5 of convolution (1×1 over the whole map,
     * or any window, 1-9 filters), depthwise convolution (a "same" window of stride 1 half the time, else any),
     * max pooling, average pooling (global or windows), a residual block (a "same" depthwise and a 1×1
     * convolution, added to the block's input); then a hidden dense layer half the time, and the dense logits.
     */
    static Int8Model randomModel(Random r) {
        Shape s = new Shape(1 + r.nextInt(5), 1 + r.nextInt(12), 1 + r.nextInt(12));
        int inputLength = s.size();
        List<Layer> layers = new ArrayList<>();
        int blocks = 1 + r.nextInt(5);
        while (blocks > 0) {
            int kind = r.nextInt(7);
            Layer layer = null;
            int[] g;
            switch (kind) {
                case 0 -> layer = conv(r, s, new int[] {1, 1, 1, 1, 0, 0, s.h, s.w}, 1 + r.nextInt(9));
                case 1 -> {
                    if ((g = window(r, s.h, s.w, true)) != null) {
                        layer = conv(r, s, g, 1 + r.nextInt(9));
                    }
                }
                case 2 -> {
                    int[] k = same(r);
                    layer = depthwise(r, s, new int[] {k[0], k[1], 1, 1, k[4], k[5], s.h, s.w});
                }
                case 3 -> {
                    if ((g = window(r, s.h, s.w, true)) != null) {
                        layer = depthwise(r, s, g);
                    }
                }
                case 4 -> {
                    if (r.nextBoolean() && s.h >= 2 && s.w >= 2) {   // the students' 2×2, stride 2 (odd maps too)
                        layer = new MaxPoolLayer(s.c, s.h, s.w, 2, 2, 2, 2, 0, 0, s.h / 2, s.w / 2);
                    } else if ((g = window(r, s.h, s.w, true)) != null) {
                        layer = new MaxPoolLayer(s.c, s.h, s.w, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
                    }
                }
                case 5 -> {
                    if (r.nextBoolean()) {
                        layer = AvgPoolLayer.global(s.c, s.h, s.w);
                    } else if ((g = window(r, s.h, s.w, false)) != null) {
                        layer = new AvgPoolLayer(s.c, s.h, s.w, g[0], g[1], g[2], g[3], g[6], g[7]);
                    }
                }
                default -> {
                    int start = layers.size();
                    int[] k = same(r);
                    layers.add(depthwise(r, s, new int[] {k[0], k[1], 1, 1, k[4], k[5], s.h, s.w}));
                    layers.add(conv(r, s, new int[] {1, 1, 1, 1, 0, 0, s.h, s.w}, s.c));
                    layer = new ResidualAddLayer(s.size(), start, ACTS[r.nextInt(2)], outScale(r), r.nextInt(256));
                }
            }
            if (layer == null) {
                continue;   // a window that does not fit this map: draw again
            }
            layers.add(layer);
            if (layer instanceof ConvLayer c) {
                s = new Shape(c.filters(), c.outHeight(), c.outWidth());
            } else if (layer instanceof DepthwiseConvLayer d) {
                s = new Shape(d.channels(), d.outHeight(), d.outWidth());
            } else if (layer instanceof MaxPoolLayer p) {
                s = new Shape(p.channels(), p.outHeight(), p.outWidth());
            } else if (layer instanceof AvgPoolLayer p) {
                s = new Shape(p.channels(), p.outHeight(), p.outWidth());
            }
            blocks--;
        }
        int width = s.size();
        if (r.nextBoolean()) {
            int out = 1 + r.nextInt(12);
            layers.add(new DenseLayer(width, out, ACTS[r.nextInt(2)], scales(r, out), weights(r, width * out),
                    bias(r, out), outScale(r), r.nextInt(256)));
            width = out;
        }
        int classes = 2 + r.nextInt(9);
        layers.add(new DenseLayer(width, classes, DenseLayer.Activation.IDENTITY, scales(r, classes),
                weights(r, width * classes), bias(r, classes), 0f, 0));
        return new Int8Model(inputLength, 0.002f + r.nextFloat() * 0.02f, r.nextInt(256), layers);
    }

    /** A random model of four layers or more. */
    private static Int8Model deepModel(Random r) {
        Int8Model model;
        do {
            model = randomModel(r);
        } while (model.layers().size() < 4);
        return model;
    }

    private static float[] input(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextInt(5) == 0 ? 0 : (r.nextFloat() * 2 - 0.5f) * (r.nextInt(3) == 0 ? 10 : 1);
        }
        return x;
    }

    @Test
    void theTestJvmHasTheVectorApi() {
        assertThat(ModuleLayer.boot().findModule("jdk.incubator.vector"))
                .as("the build starts the tests' JVM with --add-modules jdk.incubator.vector").isPresent();
    }

    /** 400 random models, 20 inputs each: the SIMD logits are the scalar logits, bit for bit. */
    @Test
    void simdLogitsAreTheScalarLogitsOnRandomModels() {
        Random r = new Random(41);
        int simd = 0;
        for (int m = 0; m < 400; m++) {
            Int8Model model = randomModel(r);
            if (model.simd()) {
                simd++;
            }
            for (int i = 0; i < 20; i++) {
                float[] x = input(r, model.inputLength());
                assertThat(model.logits(x)).as("model %d %s, input %d", m, model.layers(), i)
                        .containsExactly(model.scalarLogits(x));
            }
        }
        assertThat(simd).as("every model within the exact bounds runs the SIMD inference").isEqualTo(400);
    }

    /** Threads each use their own buffers: two threads on one model give each input's own logits. */
    @Test
    void twoThreadsOnOneModelGetTheirOwnLogits() throws Exception {
        Random r = new Random(42);
        Int8Model model = deepModel(r);
        assertThat(model.simd()).isTrue();
        float[][] inputs = new float[200][];
        float[][] expected = new float[200][];
        for (int i = 0; i < inputs.length; i++) {
            inputs[i] = input(r, model.inputLength());
            expected[i] = model.scalarLogits(inputs[i]);
        }
        Int8Model shared = model;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Callable<Boolean>> work = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int offset = t;
                work.add(() -> {
                    for (int round = 0; round < 50; round++) {
                        for (int i = offset; i < inputs.length; i += 2) {
                            if (!Arrays.equals(shared.logits(inputs[i]), expected[i])) {
                                return false;
                            }
                        }
                    }
                    return true;
                });
            }
            for (Future<Boolean> f : pool.invokeAll(work)) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Float sums are exact below 2²⁴: a filter whose bound |bias| + 255·Σ|w| reaches it makes the model run the
     * scalar inference, one just below runs the SIMD inference (this checks where the cutoff lies). Here 288 of 576 weights are 127 (255·127·288 =
     * 9,326,880) and the bias is 7,450,335 (bound 2²⁴ − 1) or 7,450,336 (bound 2²⁴).
     */
    @Test
    void aFilterAtTheExactBoundRunsTheScalarInference() {
        assertThat(boundModel(7_450_335).simd()).isTrue();
        assertThat(boundModel(7_450_336).simd()).isFalse();
    }

    private static Int8Model boundModel(int bias) {
        byte[] w = new byte[64 * 9];
        Arrays.fill(w, 0, 288, (byte) 127);
        ConvLayer conv = new ConvLayer(64, 3, 3, 1, 3, 3, 1, 1, 1, 1, 3, 3, DenseLayer.Activation.RELU,
                new float[] {0.001f}, w, new int[] {bias}, 0.5f, 0);
        DenseLayer dense = new DenseLayer(9, 2, DenseLayer.Activation.IDENTITY, new float[] {0.01f, 0.01f},
                new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1}, new int[] {1, 2}, 0f, 0);
        return new Int8Model(64 * 9, 0.01f, 0, List.of(conv, dense));
    }

    /**
     * A JVM without the module (what {@code java -jar distill-runtime.jar} gets unless told) runs the scalar
     * inference and predicts what this JVM's SIMD inference predicts: the command line, started without and
     * with {@code --add-modules}, on 200 random rows of a random model (Java's warning about the module shows
     * which JVM had it).
     */
    @Test
    void aJvmWithoutTheModulePredictsTheSame(@TempDir Path dir) throws Exception {
        Random r = new Random(44);
        Int8Model model = deepModel(r);
        assertThat(model.simd()).isTrue();
        Path file = Files.write(dir.resolve("model.int8"), TestModelFile.bytes(model));
        StringBuilder csv = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            float[] x = input(r, model.inputLength());
            StringBuilder row = new StringBuilder();
            for (int j = 0; j < x.length; j++) {
                row.append(j == 0 ? "" : ",").append(x[j]);
            }
            csv.append(row).append('\n');
            expected.append(model.predict(x)).append('\n');
        }
        Path rows = Files.writeString(dir.resolve("rows.csv"), csv);
        String[] without = cli(List.of(), file, rows);
        String[] with = cli(List.of("--add-modules=jdk.incubator.vector"), file, rows);
        assertThat(without[1]).doesNotContain("incubator");
        assertThat(with[1]).contains("WARNING: Using incubator modules: jdk.incubator.vector");
        assertThat(without[0]).isEqualTo(expected.toString());
        assertThat(with[0]).isEqualTo(expected.toString());
    }

    /** The command line in a JVM of its own: its standard output and standard error (exit code 0 required). */
    private static String[] cli(List<String> jvmOptions, Path model, Path rows) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RuntimeMain.class.getName(), "--no-header",
                model.toString(), rows.toString()));
        Path err = Files.createTempFile(model.getParent(), "stderr", ".txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        String stderr = Files.readString(err);
        assertThat(code).as(stderr).isZero();
        return new String[] {out, stderr};
    }

    /** {@code -Ddistill.runtime.simd=false} turns the SIMD inference off for models made after it is set. */
    @Test
    void theSystemPropertyTurnsTheSimdInferenceOff() {
        Random r = new Random(43);
        Int8Model on = randomModel(r);
        assertThat(on.simd()).isTrue();
        String before = System.getProperty(Int8Model.SIMD_PROPERTY);
        System.setProperty(Int8Model.SIMD_PROPERTY, "false");
        try {
            Int8Model off = new Int8Model(on.inputLength(), on.inputScale(), on.inputZeroPoint(), on.layers());
            assertThat(off.simd()).isFalse();
            float[] x = input(r, on.inputLength());
            assertThat(off.logits(x)).containsExactly(on.logits(x));
        } finally {
            if (before == null) {
                System.clearProperty(Int8Model.SIMD_PROPERTY);
            } else {
                System.setProperty(Int8Model.SIMD_PROPERTY, before);
            }
        }
    }

    /** A dense model (nothing for SIMD to gain: the scalar inference skips zero inputs) runs the scalar inference. */
    @Test
    void aDenseModelRunsTheScalarInference() {
        DenseLayer dense = new DenseLayer(4, 2, DenseLayer.Activation.IDENTITY, new float[] {1, 1},
                new byte[] {1, 0, 0, 1, 1, 0, 0, 1}, new int[2], 0f, 0);
        assertThat(new Int8Model(4, 1f, 0, List.of(dense)).simd()).isFalse();
    }
}
