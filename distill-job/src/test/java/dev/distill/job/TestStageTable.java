package dev.distill.job;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TestStageTable {
    @Test
    void sizeRatiosKeepADecimalBelowTen() {
        assertThat(StageTable.times(1)).isEqualTo("1.0x");
        assertThat(StageTable.times(0.396)).isEqualTo("0.4x");
        assertThat(StageTable.times(9.94)).isEqualTo("9.9x");
        assertThat(StageTable.times(9.96)).isEqualTo("10x");
        assertThat(StageTable.times(1069.2)).isEqualTo("1,069x");
    }
}
