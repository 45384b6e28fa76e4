package dev.distill.runtime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A model reuses each thread's working arrays from call to call ({@link Scratch}); nothing of one call may
 * reach the next, nor another thread's. The model has every layout of patch rows (a padded 3×3 convolution,
 * a 1×1 one, a stride-2 depthwise one), a residual block whose kept input lives in a reused array, both
 * poolings and a dense layer.
 */
class TestScratchReuse {

    static Int8Model model(long seed) {
        Random r = new Random(seed);
        List<Layer> layers = List.of(
                new ConvLayer(2, 8, 8, 4, 3, 3, 1, 1, 1, 1, 8, 8, DenseLayer.Activation.RELU, scales(r, 4),
                        weights(r, 4 * 2 * 9), biases(r, 4), 0.04f, 0),
                new DepthwiseConvLayer(4, 8, 8, 3, 3, 1, 1, 1, 1, 8, 8, DenseLayer.Activation.IDENTITY, scales(r, 4),
                        weights(r, 4 * 9), biases(r, 4), 0.05f, 128),
                new ConvLayer(4, 8, 8, 4, 1, 1, 1, 1, 0, 0, 8, 8, DenseLayer.Activation.IDENTITY, scales(r, 4),
                        weights(r, 16), biases(r, 4), 0.05f, 120),
                new ResidualAddLayer(256, 1, DenseLayer.Activation.RELU, 0.06f, 0),
                new DepthwiseConvLayer(4, 8, 8, 3, 3, 2, 2, 1, 1, 4, 4, DenseLayer.Activation.RELU, scales(r, 4),
                        weights(r, 4 * 9), biases(r, 4), 0.05f, 0),
                new MaxPoolLayer(4, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2),
                new AvgPoolLayer(4, 2, 2, 2, 2, 1, 1, 1, 1),
                new DenseLayer(4, 3, DenseLayer.Activation.IDENTITY, scales(r, 3), weights(r, 12), biases(r, 3),
                        0f, 0));
        return new Int8Model(128, 1f / 255, 0, layers);
    }

    private static float[] scales(Random r, int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = 0.002f + 0.01f * r.nextFloat();
        }
        return s;
    }

    private static byte[] weights(Random r, int n) {
        byte[] w = new byte[n];
        for (int i = 0; i < n; i++) {
            w[i] = (byte) (r.nextInt(255) - 127);
        }
        return w;
    }

    private static int[] biases(Random r, int n) {
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            b[i] = r.nextInt(2001) - 1000;
        }
        return b;
    }

    private static float[][] inputs(int n) {
        Random r = new Random(7);
        float[][] x = new float[n][128];
        for (float[] row : x) {
            for (int i = 0; i < row.length; i++) {
                row[i] = r.nextFloat();
            }
        }
        return x;
    }

    /** Each input through a model of its own (fresh working arrays). */
    private static float[][] fresh(float[][] x) {
        float[][] expected = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            expected[i] = model(3).logits(x[i]);
        }
        return expected;
    }

    @Test
    void repeatedCallsGiveWhatFreshModelsGive() {
        float[][] x = inputs(40);
        float[][] expected = fresh(x);
        Int8Model shared = model(3);
        for (int pass = 0; pass < 3; pass++) {
            for (int k = 0; k < x.length; k++) {
                int i = pass == 1 ? x.length - 1 - k : k;   // forwards, backwards, forwards
                assertThat(shared.logits(x[i])).as("pass %d, input %d", pass, i).containsExactly(expected[i]);
            }
        }
        long distinct = java.util.Arrays.stream(expected).map(java.util.Arrays::toString).distinct().count();
        assertThat(distinct).as("inputs give different logits").isGreaterThan(30);
    }

    @Test
    void threadsSharingAModelGiveWhatFreshModelsGive() throws Exception {
        float[][] x = inputs(40);
        float[][] expected = fresh(x);
        Int8Model shared = model(3);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Integer>> runs = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int offset = t * 13;
                runs.add(pool.submit(() -> {
                    int checked = 0;
                    for (int rep = 0; rep < 50; rep++) {
                        for (int k = 0; k < x.length; k++) {
                            int i = (k + offset + rep) % x.length;
                            assertThat(shared.logits(x[i])).as("input %d", i).containsExactly(expected[i]);
                            checked++;
                        }
                    }
                    return checked;
                }));
            }
            for (Future<Integer> run : runs) {
                assertThat(run.get()).isEqualTo(2000);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
