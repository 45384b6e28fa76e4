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
}
