package dev.distill.job.report;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TestReportTables {
    @Test
    void sizeRatiosKeepADecimalBelowTen() {
        assertThat(ReportTables.times(1)).isEqualTo("1.0x");
        assertThat(ReportTables.times(0.396)).isEqualTo("0.4x");
        assertThat(ReportTables.times(9.94)).isEqualTo("9.9x");
        assertThat(ReportTables.times(9.96)).isEqualTo("10x");
        assertThat(ReportTables.times(1069.2)).isEqualTo("1,069x");
    }
}
