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
