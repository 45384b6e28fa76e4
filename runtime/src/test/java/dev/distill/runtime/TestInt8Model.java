package dev.distill.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestInt8Model {
    /**
     * Two inputs (scale 0.5, zero point 10) → dense 2→2 relu (scales 0.25, 0.5; requantised with scale 0.1,
     * zero point 0) → dense 2→2 identity (scales 1, 2).
     */
    static Int8Model handModel() {
        DenseLayer hidden = new DenseLayer(2, 2, DenseLayer.Activation.RELU, new float[] {0.25f, 0.5f},
                new byte[] {2, -1, 1, 3}, new int[] {4, -6}, 0.1f, 0);
        DenseLayer output = new DenseLayer(2, 2, DenseLayer.Activation.IDENTITY, new float[] {1f, 2f},
                new byte[] {1, 0, 0, -1}, new int[] {0, 0}, 0f, 0);
        return new Int8Model(2, 0.5f, 10, List.of(hidden, output));
    }

    /**
     * x = (1.0, 2.5) → q = (12, 15), q − z = (2, 5).
     * Hidden: acc0 = 4 + 2·2 − 1·5 = 3 → 3·0.5·0.25 = 0.375 → rint(3.75) = 4;
     *         acc1 = −6 + 1·2 + 3·5 = 11 → 11·0.5·0.5 = 2.75 → rint(27.5) = 28 (half to even).
     * Output: acc0 = 4 → 4·0.1·1 = 0.4; acc1 = −28 → −28·0.1·2 = −5.6.
     */
    @Test
    void integerInferenceMatchesHandDerivedNumbers() {
        float[] z = handModel().logits(new float[] {1.0f, 2.5f});
        assertThat(z[0]).isCloseTo(0.4f, within(1e-6f));
        assertThat(z[1]).isCloseTo(-5.6f, within(1e-5f));
        assertThat(handModel().predict(new float[] {1.0f, 2.5f})).isZero();
        assertThat(handModel().predict(new float[][] {{1.0f, 2.5f}, {1.0f, 2.5f}})).containsExactly(0, 0);
        assertThat(handModel().parameters()).isEqualTo(12);
    }

    @Test
    void quantisationRoundsHalfToEvenAndClamps() {
        assertThat(Int8Model.quantize(1.25f, 0.5f, 0)).isEqualTo(2);
        assertThat(Int8Model.quantize(1.75f, 0.5f, 0)).isEqualTo(4);
        assertThat(Int8Model.quantize(-100f, 0.5f, 10)).isZero();
        assertThat(Int8Model.quantize(1000f, 0.5f, 10)).isEqualTo(255);
    }

    /**
     * The float rounding equals the definition clamp(rint(x / scale) + zeroPoint, 0, 255) in double, (int) of
     * NaN being 0: on exact halves (ties to even, both signs), values next to halves, every magnitude from
     * tiny to beyond the clamp, zero of either sign, infinities and NaN, and a million random ones.
     */
    @Test
    void quantisationEqualsRintInDoubleEverywhere() {
        java.util.List<float[]> cases = new java.util.ArrayList<>();   // {x, scale, zeroPoint}
        float[] scales = {1f, 0.5f, 0.1f, 0.0039215689f, 3.7e-5f, 17f};
        for (float s : scales) {
            for (int zp : new int[] {0, 1, 128, 255}) {
                for (int k = -300; k <= 300; k++) {
                    float half = (k + 0.5f) * s;
                    cases.add(new float[] {half, s, zp});
                    cases.add(new float[] {Math.nextUp(half), s, zp});
                    cases.add(new float[] {Math.nextDown(half), s, zp});
                    cases.add(new float[] {k * s, s, zp});
                }
                for (float x : new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 511.5f * s, 512.5f * s, 1e30f,
                        -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                        Float.NaN}) {
                    cases.add(new float[] {x, s, zp});
                }
            }
        }
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < 1_000_000; i++) {
            float s = (float) Math.pow(10, -6 + 7 * r.nextDouble());
            cases.add(new float[] {(float) (r.nextGaussian() * 300 * s * Math.pow(10, r.nextInt(3) - 1)), s, r.nextInt(256)});
        }
        for (float[] c : cases) {
            double q = Math.rint(c[0] / c[1]) + (int) c[2];
            int expected = (int) Math.max(0, Math.min(255, q));
            assertThat(Int8Model.quantize(c[0], c[1], (int) c[2])).as("x = %s, scale = %s, zero point %d", c[0], c[1],
                    (int) c[2]).isEqualTo(expected);
        }
    }

    @Test
    void rejectsInconsistentShapesAndInputs() {
        DenseLayer a = new DenseLayer(3, 2, DenseLayer.Activation.RELU, new float[] {1, 1}, new byte[6], new int[2], 1f, 0);
        assertThatThrownBy(() -> new Int8Model(4, 1f, 0, List.of(a)))
                .hasMessage("layer 0 takes 3 inputs but receives 4");
        assertThatThrownBy(() -> handModel().logits(new float[3])).hasMessage("the model takes 2 features, got 3");
        assertThatThrownBy(() -> new DenseLayer(2, 2, DenseLayer.Activation.RELU, new float[1], new byte[4], new int[2], 1f, 0))
                .hasMessage("dense layer 2x2 has 1 scales, 4 weights and 2 biases");
    }
}
