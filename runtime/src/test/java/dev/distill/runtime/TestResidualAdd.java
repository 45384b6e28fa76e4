package dev.distill.runtime;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestResidualAdd {
    /**
     * Input x = (1, 2, −1, 3) at scale 0.5, zero point 10: codes (12, 14, 8, 16). Layer 0, dense with identity
     * weights (codes 1, scale 1), ReLU, output scale 0.25: real (1, 2, 0, 3), codes (4, 8, 0, 12). Layer 1 adds
     * the input of layer 0: 0.25·code + 0.5·(q − 10) = (2, 4, −1, 6); with ReLU (2, 4, 0, 6), at scale 0.5 and
     * zero point 20 codes (24, 28, 20, 32); with identity codes (24, 28, 18, 32). Layer 2 picks elements 0 and
     * 2: (4, 0)·0.5 = (2, 0) with ReLU, (4, −2)·0.5 = (2, −1) without.
     */
    static Int8Model model(DenseLayer.Activation addActivation) {
        byte[] eye = new byte[16];
        for (int i = 0; i < 4; i++) {
            eye[i * 4 + i] = 1;
        }
        DenseLayer first = new DenseLayer(4, 4, DenseLayer.Activation.RELU, new float[] {1, 1, 1, 1}, eye, new int[4],
                0.25f, 0);
        ResidualAddLayer add = new ResidualAddLayer(4, 0, addActivation, 0.5f, 20);
        DenseLayer pick = new DenseLayer(4, 2, DenseLayer.Activation.IDENTITY, new float[] {1, 1},
                new byte[] {1, 0, 0, 0, 0, 0, 1, 0}, new int[2], 0f, 0);
        return new Int8Model(4, 0.5f, 10, List.of(first, add, pick));
    }

    @Test
    void theAddSumsBothInputsAtTheirOwnScalesAsDerivedByHand() throws Exception {
        float[] x = {1, 2, -1, 3};
        assertThat(model(DenseLayer.Activation.RELU).logits(x)).containsExactly(2f, 0f);
        Int8Model identity = model(DenseLayer.Activation.IDENTITY);
        assertThat(identity.logits(x)).containsExactly(2f, -1f);
        assertThat(identity.parameters()).isEqualTo(16 + 4 + 8 + 2);
        byte[] file = TestModelFile.bytes(identity);
        assertThat(file[4]).as("format version").isEqualTo((byte) 4);
        Int8Model back = ModelFile.read(new ByteArrayInputStream(file), "m");
        assertThat(back.logits(x)).containsExactly(2f, -1f);
        assertThat(back.layers().get(1)).isEqualTo(identity.layers().get(1));
    }

    @Test
    void aBlockMustStartBeforeItsAddAndKeepItsSize() {
        DenseLayer narrow = new DenseLayer(4, 3, DenseLayer.Activation.RELU, new float[3], new byte[12], new int[3], 1f, 0);
        DenseLayer last = new DenseLayer(3, 2, DenseLayer.Activation.IDENTITY, new float[2], new byte[6], new int[2], 0f, 0);
        assertThatThrownBy(() -> new Int8Model(4, 1f, 0, List.of(narrow,
                new ResidualAddLayer(3, 0, DenseLayer.Activation.RELU, 1f, 0), last)))
                .hasMessage("layer 1 adds the input of layer 0, 4 values, to its own 3; a residual block must keep its"
                        + " input's size");
        assertThatThrownBy(() -> new Int8Model(4, 1f, 0, List.of(narrow,
                new ResidualAddLayer(3, 2, DenseLayer.Activation.RELU, 1f, 0), last)))
                .hasMessage("layer 1 adds the input of layer 2, which comes after it; a residual block starts at or before"
                        + " its add");
    }

    @Test
    void theReaderChecksTheKindsVersionAndStart() throws Exception {
        byte[] file = TestModelFile.bytes(model(DenseLayer.Activation.RELU));
        byte[] v3 = file.clone();
        v3[4] = 3;
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(v3), "m.int8"))
                .hasMessage("m.int8: layer 1 has kind 6; version 3 knows 1 (dense), 2 (convolution), 3 (max pooling),"
                        + " 4 (depthwise convolution) and 5 (average pooling), and the last layer must be dense");
        // The add's start (after kind, activation and size) changed to 2, a layer after it.
        byte[] payload = TestModelFile.payload(file);
        int at = addOffset(payload);
        ByteBuffer.wrap(payload).putInt(at + 6, 2);
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(TestModelFile.frame(payload)), "m.int8"))
                .hasMessage("m.int8: layer 1 start layer is 2; must be in [0, 1]");
    }

    /** Where layer 1 (the add) begins in the payload: after the header fields and the first dense layer. */
    private static int addOffset(byte[] payload) {
        int header = 4 + 4 + 4 + 4;
        int dense = 1 + 1 + 4 + 4 + 1 + 16 + 4 * 4 + 4 * 4 + 4 + 4;
        assertThat(payload[header + dense]).as("kind of layer 1").isEqualTo((byte) 6);
        return header + dense;
    }

    /** Damaged residual files open as a model or fail with a ModelFileException, never anything else. */
    @Test
    void damagedResidualFilesAreRefusedCleanly() throws Exception {
        byte[] good = TestModelFile.bytes(model(DenseLayer.Activation.RELU));
        int[] outcomes = TestModelFile.fuzz(good, TestModelFile.payload(good), 3000, new java.util.Random(21));
        assertThat(outcomes[0] + outcomes[1]).isEqualTo(3000);
        assertThat(outcomes[1]).as("rejected").isGreaterThan(1000);
    }

    /**
     * The branch-free add gives the codes of the definition, quantize(act(scale·(x − zero) + skipScale·(skip −
     * skipZero))), over random codes, zero points, scales of every magnitude (some overflowing: infinite terms,
     * and NaN where two meet) and both activations.
     */
    @Test
    void addEqualsTheDefinitionOnRandomValues() {
        java.util.Random r = new java.util.Random(17);
        for (int t = 0; t < 2_000; t++) {
            int size = 1 + r.nextInt(300);
            DenseLayer.Activation act = r.nextBoolean() ? DenseLayer.Activation.RELU : DenseLayer.Activation.IDENTITY;
            float outScale = (float) Math.exp(r.nextGaussian() * 3);
            ResidualAddLayer add = new ResidualAddLayer(size, 0, act, outScale, r.nextInt(256));
            // One time in 50 a scale so large that a term overflows (value by value through quantize).
            float scale = t % 50 == 49 ? Float.MAX_VALUE : (float) Math.exp(r.nextGaussian() * 3);
            float skipScale = t % 100 == 99 ? Float.MAX_VALUE : (float) Math.exp(r.nextGaussian() * 3);
            int zero = r.nextInt(256);
            int skipZero = r.nextInt(256);
            int[] x = new int[size];
            int[] skip = new int[size];
            for (int i = 0; i < size; i++) {
                x[i] = r.nextInt(256);
                skip[i] = r.nextInt(256);
            }
            int[] out = add.add(x, scale, zero, skip, skipScale, skipZero);
            for (int i = 0; i < size; i++) {
                float real = scale * (x[i] - zero) + skipScale * (skip[i] - skipZero);
                if (act == DenseLayer.Activation.RELU && real < 0) {
                    real = 0;
                }
                assertThat(out[i]).as("value %d: x %d at %s/%d, skip %d at %s/%d, out %s/%d, %s", i, x[i], scale, zero,
                        skip[i], skipScale, skipZero, outScale, add.outputZeroPoint(), act)
                        .isEqualTo(Int8Model.quantize(real, outScale, add.outputZeroPoint()));
            }
        }
    }
}
