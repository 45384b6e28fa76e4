package dev.distill.runtime;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestDepthwiseAndAveragePooling {
    /**
     * Input 2×2×2: channel 0 = 1..4, channel 1 = 10, 20, 30, 40 (scale 1, zero point 0). Depthwise 1×1 kernels
     * 2 and −1 with biases 1 and 100, identity, output scale 1, zero point 50: channel 0 → 2x + 1 + 50 = 53, 55,
     * 57, 59; channel 1 → −x + 100 + 50 = 140, 130, 120, 110. Global average pooling: codes 56 (mean 56.0) and
     * 125. Dense identity picks (56 − 50, 125 − 50) = (6, 75).
     */
    @Test
    void depthwiseGlobalPoolingAndDenseAsDerivedByHand() throws Exception {
        DepthwiseConvLayer dw = new DepthwiseConvLayer(2, 2, 2, 1, 1, 1, 1, 0, 0, 2, 2, DenseLayer.Activation.IDENTITY,
                new float[] {1, 1}, new byte[] {2, -1}, new int[] {1, 100}, 1f, 50);
        AvgPoolLayer gap = AvgPoolLayer.global(2, 2, 2);
        DenseLayer dense = new DenseLayer(2, 2, DenseLayer.Activation.IDENTITY, new float[] {1, 1},
                new byte[] {1, 0, 0, 1}, new int[2], 0f, 0);
        Int8Model m = new Int8Model(8, 1f, 0, List.of(dw, gap, dense));
        float[] in = {1, 2, 3, 4, 10, 20, 30, 40};
        assertThat(m.logits(in)).containsExactly(6f, 75f);
        assertThat(m.parameters()).isEqualTo(2 + 2 + 4 + 2);
        byte[] file = TestModelFile.bytes(m);
        assertThat(file[4]).as("format version").isEqualTo((byte) 3);
        Int8Model back = ModelFile.read(new ByteArrayInputStream(file), "m");
        assertThat(back.logits(in)).containsExactly(6f, 75f);
        assertThat(back.layers()).extracting(l -> l.getClass().getSimpleName())
                .containsExactly("DepthwiseConvLayer", "AvgPoolLayer", "DenseLayer");
    }

    /** The mean of the centred codes rounds half to even: (1 + 2) / 2 = 1.5 → 2, (2 + 3) / 2 = 2.5 → 2. */
    @Test
    void averagesRoundHalfToEvenAroundTheZeroPoint() {
        AvgPoolLayer pool = new AvgPoolLayer(1, 1, 4, 1, 2, 1, 2, 1, 2);
        assertThat(pool.pool(new int[] {11, 12, 12, 13}, 10)).containsExactly(12, 12);
        assertThat(pool.pool(new int[] {8, 9, 7, 8}, 10)).containsExactly(8, 8);   // −1.5 → −2, −2.5 → −2
        assertThatThrownBy(() -> new AvgPoolLayer(1, 3, 3, 2, 2, 2, 2, 2, 2))
                .hasMessage("average pooling 2x2 with stride 2x2 to 2x2 reaches outside the 3x3 input; every window"
                        + " must lie inside it");
    }

    /** The depthwise accumulation equals its definition window by window, over {@link WindowGeometry random geometries}. */
    @Test
    void depthwiseAccumulationEqualsTheDefinitionOnRandomGeometries() {
        Random r = new Random(13);
        int checked = 0;
        while (checked < 300) {
            int c = 1 + r.nextInt(4);
            WindowGeometry g = WindowGeometry.draw(r);
            if (g == null) {
                continue;
            }
            int kh = g.kh(), kw = g.kw(), sh = g.sh(), sw = g.sw(), h = g.h(), w = g.w(), pt = g.pt(), pl = g.pl();
            int oh = g.oh(), ow = g.ow();
            byte[] weights = new byte[c * kh * kw];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = r.nextInt(3) == 0 ? 0 : (byte) (r.nextInt(255) - 127);
            }
            int[] bias = new int[c];
            for (int i = 0; i < c; i++) {
                bias[i] = r.nextInt(20_001) - 10_000;
            }
            float[] scales = new float[c];
            java.util.Arrays.fill(scales, 1f);
            DepthwiseConvLayer dw = new DepthwiseConvLayer(c, h, w, kh, kw, sh, sw, pt, pl, oh, ow,
                    DenseLayer.Activation.IDENTITY, scales, weights, bias, 1f, 0);
            int[] x = new int[c * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextInt(256) - r.nextInt(256);
            }
            int[] expected = new int[c * oh * ow];
            for (int ci = 0; ci < c; ci++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        int sum = bias[ci];
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    sum += weights[(ci * kh + ky) * kw + kx] * x[(ci * h + iy) * w + ix];
                                }
                            }
                        }
                        expected[(ci * oh + oy) * ow + ox] = sum;
                    }
                }
            }
            assertThat(dw.accumulate(x)).as("%dx%dx%d, kernel %dx%d, stride %dx%d, padding %d/%d, output %dx%d",
                    c, h, w, kh, kw, sh, sw, pt, pl, oh, ow).containsExactly(expected);
            checked++;
        }
    }

    /** Average pooling equals the rounded mean code of each window, over random geometries and zero points. */
    @Test
    void averagePoolingEqualsTheDefinitionOnRandomGeometries() {
        Random r = new Random(14);
        for (int checked = 0; checked < 300; ) {
            int c = 1 + r.nextInt(3), h = 1 + r.nextInt(9), w = 1 + r.nextInt(9);
            int kh = 1 + r.nextInt(h), kw = 1 + r.nextInt(w), sh = 1 + r.nextInt(3), sw = 1 + r.nextInt(3);
            int oh = 1 + (h - kh) / sh, ow = 1 + (w - kw) / sw;
            AvgPoolLayer pool = new AvgPoolLayer(c, h, w, kh, kw, sh, sw, oh, ow);
            int zero = r.nextInt(256);
            int[] q = new int[c * h * w];
            for (int i = 0; i < q.length; i++) {
                q[i] = r.nextInt(256);
            }
            int[] expected = new int[c * oh * ow];
            for (int ci = 0; ci < c; ci++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        long sum = 0;
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < kw; kx++) {
                                sum += q[(ci * h + oy * sh + ky) * w + ox * sw + kx] - zero;
                            }
                        }
                        expected[(ci * oh + oy) * ow + ox] = Math.max(0, Math.min(255,
                                zero + (int) Math.rint(sum / (double) (kh * kw))));
                    }
                }
            }
            assertThat(pool.pool(q, zero)).containsExactly(expected);
            checked++;
        }
    }

    @Test
    void aVersion2ReaderRefusesTheNewKindsByName() throws Exception {
        DepthwiseConvLayer dw = new DepthwiseConvLayer(1, 2, 2, 1, 1, 1, 1, 0, 0, 2, 2, DenseLayer.Activation.RELU,
                new float[] {1}, new byte[] {1}, new int[1], 1f, 0);
        DenseLayer dense = new DenseLayer(4, 2, DenseLayer.Activation.IDENTITY, new float[] {1, 1}, new byte[8],
                new int[2], 0f, 0);
        byte[] file = TestModelFile.bytes(new Int8Model(4, 1f, 0, List.of(dw, dense)));
        file[4] = 2;   // claim version 2: kind 4 is then unknown
        // The CRC covers the payload, not the header, so the file still opens as far as the layer kind.
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(file), "m.int8"))
                .hasMessage("m.int8: layer 0 has kind 4; version 2 knows 1 (dense), 2 (convolution) and 3 (max pooling),"
                        + " and the last layer must be dense");
    }

    /**
     * The branch-free requantisation gives the codes of the definition, quantize(act(acc · m)), over a million
     * random accumulators, factors, scales and zero points spanning every magnitude (values beyond ±512 steps
     * included), with and without ReLU, and 0 for the NaN of an infinite factor times 0.
     */
    @Test
    void requantisationEqualsTheDefinition() {
        Random r = new Random(15);
        int[] acc = new int[1];
        int[] out = new int[1];
        for (int t = 0; t < 1_000_000; t++) {
            acc[0] = r.nextInt() >> r.nextInt(32);
            float m = (float) Math.exp(r.nextGaussian() * 8);
            float scale = (float) Math.exp(r.nextGaussian() * 4);
            int zero = r.nextInt(256);
            boolean relu = r.nextBoolean();
            Int8Model.requantize(acc, 1, new float[] {m}, relu, scale, zero, out);
            float real = acc[0] * m;
            if (relu && real < 0) {
                real = 0;
            }
            assertThat(out[0]).as("acc %d, m %s, scale %s, zero %d, relu %b", acc[0], m, scale, zero, relu)
                    .isEqualTo(Int8Model.quantize(real, scale, zero));
        }
        acc[0] = 0;
        Int8Model.requantize(acc, 1, new float[] {Float.POSITIVE_INFINITY}, true, 1f, 7, out);
        assertThat(out[0]).isZero();
    }

    /**
     * Whole layers (1-40 channels of 1-200 values, each channel with its own factor, as a convolution
     * requantises them, often enough for the JIT to compile the SIMD loop) give the definition's codes value by
     * value; so do channels whose factor is negative, infinite or NaN among finite ones, and layers whose
     * output scale is infinite.
     */
    @Test
    void requantisationOfWholeLayersEqualsTheDefinition() {
        Random r = new Random(16);
        for (int t = 0; t < 5_000; t++) {
            int channels = 1 + r.nextInt(40);
            int plane = 1 + r.nextInt(200);
            int[] acc = new int[channels * plane];
            for (int k = 0; k < acc.length; k++) {
                acc[k] = r.nextInt() >> r.nextInt(32);
            }
            float[] factors = new float[channels];
            for (int c = 0; c < channels; c++) {
                factors[c] = switch (r.nextInt(50)) {
                    case 0 -> Float.POSITIVE_INFINITY;
                    case 1 -> Float.NEGATIVE_INFINITY;
                    case 2 -> Float.NaN;
                    case 3, 4 -> (float) -Math.exp(r.nextGaussian() * 8);
                    default -> (float) Math.exp(r.nextGaussian() * 8);
                };
            }
            float scale = r.nextInt(100) == 0 ? Float.POSITIVE_INFINITY : (float) Math.exp(r.nextGaussian() * 4);
            int zero = r.nextInt(256);
            boolean relu = r.nextBoolean();
            int[] out = new int[acc.length];
            Int8Model.requantize(acc, plane, factors, relu, scale, zero, out);
            for (int k = 0; k < acc.length; k++) {
                float real = acc[k] * factors[k / plane];
                assertThat(out[k]).as("value %d of %dx%d: acc %d, m %s, scale %s, zero %d, relu %b", k, channels, plane,
                        acc[k], factors[k / plane], scale, zero, relu)
                        .isEqualTo(Int8Model.quantize(relu && real < 0 ? 0 : real, scale, zero));
            }
        }
    }

    /** Damaged copies of a file with depthwise convolutions and average pooling only ever fail by name. */
    @Test
    void mutationsOfAVersion3FileOnlyEverGiveModelFileException() throws Exception {
        Random r = new Random(16);
        byte[] weights = new byte[4 * 9];
        r.nextBytes(weights);
        DepthwiseConvLayer dw = new DepthwiseConvLayer(4, 6, 6, 3, 3, 1, 1, 1, 1, 6, 6, DenseLayer.Activation.RELU,
                new float[] {0.01f, 0.02f, 0.03f, 0.04f}, weights, new int[] {5, -5, 50, -50}, 0.1f, 3);
        AvgPoolLayer pool = new AvgPoolLayer(4, 6, 6, 2, 2, 2, 2, 3, 3);
        AvgPoolLayer gap = AvgPoolLayer.global(4, 3, 3);
        byte[] dense = new byte[8];
        r.nextBytes(dense);
        Int8Model m = new Int8Model(144, 0.01f, 0, List.of(dw, pool, gap, new DenseLayer(4, 2,
                DenseLayer.Activation.IDENTITY, new float[] {0.1f, 0.1f}, dense, new int[2], 0f, 0)));
        byte[] good = TestModelFile.bytes(m);
        int[] outcomes = TestModelFile.fuzz(good, TestModelFile.payload(good), 3000, r);
        assertThat(outcomes[0] + outcomes[1]).isEqualTo(3000);
        assertThat(outcomes[1]).as("rejected").isGreaterThan(1000);
    }
}
