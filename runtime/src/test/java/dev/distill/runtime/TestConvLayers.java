package dev.distill.runtime;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestConvLayers {
    /**
     * Input 1×3×3 = 1..9 (scale 1, zero point 0, so codes are the values). Two 2×2 filters, stride 1, no
     * padding, ReLU, output scale 1 and zero point 10: filter 0 = [[1, 0], [0, −1]] gives in(y, x) −
     * in(y+1, x+1) = −4 everywhere → ReLU 0 → code 10; filter 1 = [[0, 1], [1, 0]] gives 2+4, 3+5, 5+7, 6+8 =
     * 6, 8, 12, 14 → codes 16, 18, 22, 24. Max pooling 2×2 → codes 10 and 24. A dense identity layer then
     * sees (10 − 10, 24 − 10) = (0, 14): the logits.
     */
    static Int8Model handModel() {
        ConvLayer conv = new ConvLayer(1, 3, 3, 2, 2, 2, 1, 1, 0, 0, 2, 2, DenseLayer.Activation.RELU,
                new float[] {1, 1}, new byte[] {1, 0, 0, -1, 0, 1, 1, 0}, new int[2], 1f, 10);
        MaxPoolLayer pool = new MaxPoolLayer(2, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1);
        DenseLayer dense = new DenseLayer(2, 2, DenseLayer.Activation.IDENTITY, new float[] {1, 1},
                new byte[] {1, 0, 0, 1}, new int[2], 0f, 0);
        return new Int8Model(9, 1f, 0, List.of(conv, pool, dense));
    }

    @Test
    void convolutionPoolingAndDenseAsDerivedByHand() throws Exception {
        Int8Model m = handModel();
        float[] input = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertThat(m.logits(input)).containsExactly(0f, 14f);
        assertThat(m.parameters()).isEqualTo(8 + 2 + 4 + 2);
        byte[] file = TestModelFile.bytes(m);
        assertThat(file[4]).as("format version").isEqualTo((byte) 2);
        Int8Model back = ModelFile.read(new ByteArrayInputStream(file), "m");
        assertThat(back.logits(input)).containsExactly(0f, 14f);
        assertThat(back.layers()).hasSize(3).first().isInstanceOf(ConvLayer.class);
        assertThat(TestModelFile.bytes(TestModelFile.randomModel(1))[4]).as("dense models stay version 1").isEqualTo((byte) 1);
    }

    /** A 3×3 kernel of ones with padding 1 ("same") over a 3×3 map of ones: corners 4, edges 6, centre 9. */
    @Test
    void paddingCountsAsTheZeroPoint() {
        byte[] ones = new byte[9];
        java.util.Arrays.fill(ones, (byte) 1);
        ConvLayer conv = new ConvLayer(1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 3, 3, DenseLayer.Activation.IDENTITY,
                new float[] {1}, ones, new int[1], 1f, 0);
        byte[] pick = new byte[9 * 3];
        pick[0] = 1;          // logit 0 = top-left
        pick[9 + 1] = 1;      // logit 1 = top edge
        pick[18 + 4] = 1;     // logit 2 = centre
        DenseLayer dense = new DenseLayer(9, 3, DenseLayer.Activation.IDENTITY, new float[] {1, 1, 1}, pick, new int[3],
                0f, 0);
        float[] in = new float[9];
        java.util.Arrays.fill(in, 1f);
        assertThat(new Int8Model(9, 1f, 0, List.of(conv, dense)).logits(in)).containsExactly(4f, 6f, 9f);
    }

    /**
     * The im2col accumulation equals the definition in ConvLayer's Javadoc, computed here window by window,
     * exactly, over random geometries ({@link WindowGeometry}): 1-4 channels, 1-9 filters (whole blocks of four
     * and the rest), pruned (zero) weights, and centred inputs of either sign.
     */
    @Test
    void accumulationEqualsTheDefinitionOnRandomGeometries() {
        Random r = new Random(11);
        int checked = 0;
        while (checked < 300) {
            int c = 1 + r.nextInt(4), f = 1 + r.nextInt(9);
            WindowGeometry g = WindowGeometry.draw(r);
            if (g == null) {
                continue;
            }
            int kh = g.kh(), kw = g.kw(), sh = g.sh(), sw = g.sw(), h = g.h(), w = g.w(), pt = g.pt(), pl = g.pl();
            int oh = g.oh(), ow = g.ow();
            byte[] weights = new byte[f * c * kh * kw];
            for (int i = 0; i < weights.length; i++) {
                weights[i] = r.nextInt(3) == 0 ? 0 : (byte) (r.nextInt(255) - 127);
            }
            int[] bias = new int[f];
            for (int i = 0; i < f; i++) {
                bias[i] = r.nextInt(20_001) - 10_000;
            }
            float[] scales = new float[f];
            java.util.Arrays.fill(scales, 1f);
            ConvLayer conv = new ConvLayer(c, h, w, f, kh, kw, sh, sw, pt, pl, oh, ow, DenseLayer.Activation.IDENTITY,
                    scales, weights, bias, 1f, 0);
            int[] x = new int[c * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextInt(256) - r.nextInt(256);
            }
            int[] expected = new int[f * oh * ow];
            for (int fi = 0; fi < f; fi++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        int sum = bias[fi];
                        for (int ci = 0; ci < c; ci++) {
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        sum += weights[((fi * c + ci) * kh + ky) * kw + kx] * x[(ci * h + iy) * w + ix];
                                    }
                                }
                            }
                        }
                        expected[(fi * oh + oy) * ow + ox] = sum;
                    }
                }
            }
            assertThat(conv.accumulate(x)).as("%dx%dx%d -> %d, kernel %dx%d, stride %dx%d, padding %d/%d, output %dx%d",
                    c, h, w, f, kh, kw, sh, sw, pt, pl, oh, ow).containsExactly(expected);
            checked++;
        }
    }

    /**
     * Max pooling equals the largest code of each window's part inside the input, over random geometries:
     * the 2×2 stride-2 windows the students use (odd sizes, outputs that stop short) and others (padding,
     * overlapping windows, larger kernels), so both the special and the general loop are checked.
     */
    @Test
    void poolingEqualsTheDefinitionOnRandomGeometries() {
        Random r = new Random(12);
        int checked = 0;
        while (checked < 400) {
            boolean common = r.nextBoolean();
            int kh = common ? 2 : 1 + r.nextInt(4), kw = common ? 2 : 1 + r.nextInt(4);
            int sh = common ? 2 : 1 + r.nextInt(3), sw = common ? 2 : 1 + r.nextInt(3);
            int pt = common ? 0 : r.nextInt(kh), pl = common ? 0 : r.nextInt(kw);
            int c = 1 + r.nextInt(3), h = 1 + r.nextInt(9), w = 1 + r.nextInt(9);
            int oh = 1 + r.nextInt(Math.max(1, (h + pt) / sh + 1)), ow = 1 + r.nextInt(Math.max(1, (w + pl) / sw + 1));
            if ((long) (oh - 1) * sh - pt >= h || (long) (ow - 1) * sw - pl >= w) {
                continue;
            }
            MaxPoolLayer pool = new MaxPoolLayer(c, h, w, kh, kw, sh, sw, pt, pl, oh, ow);
            int[] q = new int[c * h * w];
            for (int i = 0; i < q.length; i++) {
                q[i] = r.nextInt(256);
            }
            int[] expected = new int[c * oh * ow];
            for (int ci = 0; ci < c; ci++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        int best = -1;
                        for (int iy = oy * sh - pt; iy < oy * sh - pt + kh; iy++) {
                            for (int ix = ox * sw - pl; ix < ox * sw - pl + kw; ix++) {
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    best = Math.max(best, q[(ci * h + iy) * w + ix]);
                                }
                            }
                        }
                        expected[(ci * oh + oy) * ow + ox] = best;
                    }
                }
            }
            assertThat(pool.pool(q)).as("%dx%dx%d, kernel %dx%d, stride %dx%d, padding %d/%d, output %dx%d", c, h, w,
                    kh, kw, sh, sw, pt, pl, oh, ow).containsExactly(expected);
            checked++;
        }
    }

    @Test
    void impossibleGeometryIsRefused() {
        assertThatThrownBy(() -> new MaxPoolLayer(1, 4, 4, 2, 2, 2, 2, 0, 0, 3, 2))
                .hasMessageContaining("is impossible");
        assertThatThrownBy(() -> new Int8Model(9, 1f, 0, List.of(new MaxPoolLayer(1, 3, 3, 3, 3, 3, 3, 0, 0, 1, 1))))
                .hasMessage("the last layer must be dense (it gives the logits)");
    }

    /** Random convolution models: each written and read back, then damaged thousands of times. */
    @Test
    void convolutionFilesSurviveThousandsOfMutations() throws Exception {
        Random r = new Random(8);
        byte[] w = new byte[4 * 2 * 3 * 3];
        for (int i = 0; i < w.length; i++) {
            w[i] = (byte) (r.nextInt(255) - 127);
        }
        ConvLayer conv = new ConvLayer(2, 6, 6, 4, 3, 3, 1, 1, 1, 1, 6, 6, DenseLayer.Activation.RELU,
                new float[] {0.01f, 0.02f, 0.01f, 0.03f}, w, new int[] {5, -5, 0, 100}, 0.1f, 0);
        MaxPoolLayer pool = new MaxPoolLayer(4, 6, 6, 2, 2, 2, 2, 0, 0, 3, 3);
        byte[] dw = new byte[36 * 3];
        for (int i = 0; i < dw.length; i++) {
            dw[i] = (byte) (r.nextInt(255) - 127);
        }
        DenseLayer dense = new DenseLayer(36, 3, DenseLayer.Activation.IDENTITY, new float[] {0.01f, 0.01f, 0.01f}, dw,
                new int[3], 0f, 0);
        Int8Model m = new Int8Model(72, 1 / 255f, 0, List.of(conv, pool, dense));
        byte[] good = TestModelFile.bytes(m);
        float[] x = new float[72];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        assertThat(ModelFile.read(new ByteArrayInputStream(good), "m").logits(x)).containsExactly(m.logits(x));
        byte[] payload = TestModelFile.payload(good);
        int[] outcomes = TestModelFile.fuzz(good, payload, 4000, r);
        assertThat(outcomes[1]).as("rejected").isGreaterThan(2000);
    }
}
