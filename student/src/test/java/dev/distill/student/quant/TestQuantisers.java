package dev.distill.student.quant;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestQuantisers {
    /**
     * W = [[0.5, −1], [0.3, 0.2]] (rows = inputs, columns = output channels).
     * 8 bits: channel 0 max 0.5 → s = 0.5/127, 0.3/s = 76.2 → 76; channel 1 max 1 → s = 1/127, codes −127
     * and rint(25.4) = 25. 4 bits (max code 7): channel 0 s = 0.5/7, 0.3/s = 4.2 → 4; channel 1 s = 1/7,
     * codes −7 and rint(1.4) = 1.
     */
    @Test
    void perChannelWeightCodesAsDerivedByHand() {
        float[] w = {0.5f, -1f, 0.3f, 0.2f};
        Quantisers.Weights q8 = Quantisers.perColumn(w, 2, 2, 8);
        assertThat(q8.codes()).containsExactly((byte) 127, (byte) 76, (byte) -127, (byte) 25);
        assertThat(q8.scales()).containsExactly(0.5f / 127, 1f / 127);
        Quantisers.Weights q4 = Quantisers.perColumn(w, 2, 2, 4);
        assertThat(q4.codes()).containsExactly((byte) 7, (byte) 4, (byte) -7, (byte) 1);
        float[] fake = Quantisers.fakePerColumn(w, 2, 2, 4);
        assertThat(fake[0]).isCloseTo(0.5f, within(1e-7f));
        assertThat(fake[1]).isCloseTo(-1f, within(1e-7f));
        assertThat(fake[2]).isCloseTo(4 * 0.5f / 7, within(1e-7f));
        assertThat(fake[3]).isCloseTo(1f / 7, within(1e-7f));
    }

    @Test
    void perBlockMatchesPerColumnOnTheTransposedLayout() {
        float[] w = {0.5f, -1f, 0.3f, 0.2f};           // [in=2, out=2]
        float[] blocks = {0.5f, 0.3f, -1f, 0.2f};      // [out=2, in=2]
        assertThat(Quantisers.perBlock(blocks, 2, 8).codes()).containsExactly(Quantisers.perColumn(w, 2, 2, 8).codes());
        assertThat(Quantisers.fakePerBlock(new float[] {0, 0, 3, -6}, 2, 2))
                .containsExactly(0f, 0f, 0f, -6f); // 2 bits: max code 1, s = 6; 3/6 = 0.5 -> 0 (half to even)
    }

    @Test
    void zeroChannelsAndBitWidthsOutsideTwoToEightAreHandled() {
        assertThat(Quantisers.perColumn(new float[] {0, 0}, 2, 1, 8).scales()).containsExactly(1f);
        assertThatThrownBy(() -> Quantisers.maxCode(9)).hasMessage("weight bits must be in [2, 8], got 9");
        assertThatThrownBy(() -> Quantisers.perColumn(new float[3], 2, 2, 8))
                .hasMessage("3 weights do not form 2 channels of 2");
    }

    /** Range [−1, 3]: scale 4/255, zero point rint(63.75) = 64; 1.0 → rint(63.75) + 64 = 128 → 64 · 4/255. */
    @Test
    void activationQuantiserAsDerivedByHand() {
        Quantisers.Range r = new Quantisers.Range(-1, 3);
        assertThat(r.scale()).isEqualTo(4f / 255);
        assertThat(r.zeroPoint()).isEqualTo(64);
        assertThat(r.code(1f)).isEqualTo(128);
        assertThat(r.fake(1f)).isCloseTo(64 * 4f / 255, within(1e-7f));
        assertThat(r.code(10f)).isEqualTo(255);
        assertThat(r.code(-5f)).isEqualTo(0);
        assertThat(r.fake(0f)).isEqualTo(0f);
        Quantisers.Range positive = new Quantisers.Range(0.5f, 2f);
        assertThat(positive.lo()).isEqualTo(0f);
        assertThat(positive.zeroPoint()).isEqualTo(0);
        assertThat(new Quantisers.Range(-1, 1).zeroPoint()).isEqualTo(128);
    }
}
