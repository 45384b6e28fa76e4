package dev.distill.datasets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestNormalisation {
    @Test
    void scaleDividesByTheMaximum() {
        assertThat(Normalisation.scale(255).apply(new float[] {0, 51, 255})).containsExactly(0f, 0.2f, 1f);
    }

    @Test
    void standardiseUsesPerFeatureMeanAndStd() {
        // Feature 0: values 1, 3 -> mean 2, std 1. Feature 1: constant 5 -> std taken as 1.
        Normalisation n = Normalisation.standardise(new double[] {4, 10}, new double[] {10, 50}, 2);
        float[] x = n.apply(new float[] {3, 5});
        assertThat(x[0]).isCloseTo(1f, within(1e-6f));
        assertThat(x[1]).isCloseTo(0f, within(1e-6f));
        assertThat(n.describe()).isEqualTo("standardise(2 features)");
        assertThatThrownBy(() -> n.apply(new float[3]))
                .hasMessage("feature length 3 differs from the 2 features the standardisation was fitted on");
    }

    @Test
    void channelsStandardiseEachChannelAfterScaling() {
        // Two channels of two pixels: (x/255 - mean_c) / std_c with mean (0.5, 0.2) and std (0.25, 0.1).
        Normalisation n = Normalisation.channels(255, new double[] {0.5, 0.2}, new double[] {0.25, 0.1}, 2);
        float[] x = n.apply(new float[] {255, 0, 51, 76.5f});
        assertThat(x[0]).isCloseTo(2f, within(1e-5f));
        assertThat(x[1]).isCloseTo(-2f, within(1e-5f));
        assertThat(x[2]).isCloseTo(0f, within(1e-5f));
        assertThat(x[3]).isCloseTo(1f, within(1e-5f));
        assertThatThrownBy(() -> n.apply(new float[3])).hasMessage("feature length 3 is not 2 channels of 2 pixels");
        // Fitted: channel 0 holds 0 and 255 in one image of 2 pixels -> mean 0.5, std 0.5; channel 1 constant.
        Normalisation fitted = Normalisation.fitChannels(255, new double[] {1, 0.8}, new double[] {1, 0.32}, 1, 2);
        assertThat((float[]) fitted.toMap().get("mean")).containsExactly(0.5f, 0.4f);
        assertThat((float[]) fitted.toMap().get("std")).containsExactly(0.5f, 1f);
        assertThat(fitted.toMap().get("method")).isEqualTo("channels");
    }
}
