package dev.distill.job.report;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestComparison {

    private static Comparison.Measured m(String name, boolean hard, List<Double> val, List<Double> test) {
        return new Comparison.Measured(name, hard ? "cross-entropy" : "hinton", Map.of(), hard, false, true, 15, val, test, 10);
    }

    @Test
    void meanAndSampleStandardDeviation() {
        assertThat(Comparison.mean(List.of(0.8, 0.9, 1.0))).isCloseTo(0.9, within(1e-12));
        // deviations ±0.1 and 0: s² = (0.01 + 0 + 0.01) / 2
        assertThat(Comparison.std(List.of(0.8, 0.9, 1.0))).isCloseTo(0.1, within(1e-12));
        assertThat(Comparison.std(List.of(0.8))).isZero();
    }

    /**
     * The best hard-label method is chosen on validation (B, though A is better on test); gains are over B's test
     * mean: KD mean 0.91 − 0.89 = +2 points; SE = 100·sqrt(0.01²/3 + 0.01²/3) = 0.8165; 2 < 2 SE = 1.633? no:
     * 2 > 1.633, significant. A: 0.90 − 0.89 = +1 point, SE 0.8165 · ... (A's std 0.01 too) → 1 < 1.633, not.
     */
    @Test
    void gainsAreOverTheHardLabelMethodBestOnValidationAndTestedAtTwoStandardErrors() {
        List<Double> sd1 = List.of(-0.01, 0.0, 0.01);
        var a = m("A", true, List.of(0.80, 0.80, 0.80), plus(0.90, sd1));
        var b = m("B", true, List.of(0.85, 0.85, 0.85), plus(0.89, sd1));
        var kd = m("KD", false, List.of(0.9, 0.9, 0.9), plus(0.91, sd1));
        String[] best = new String[1];
        List<Comparison.Method> out = Comparison.withGains(List.of(a, b, kd), best);
        assertThat(best[0]).isEqualTo("B");
        assertThat(out.get(1).gainPoints()).isNull();
        assertThat(out.get(1).significant()).isNull();
        double se = 100 * Math.sqrt(2 * 0.0001 / 3);
        assertThat(out.get(2).gainPoints()).isCloseTo(2.0, within(1e-9));
        assertThat(out.get(2).gainStandardError()).isCloseTo(se, within(1e-9));
        assertThat(out.get(2).significant()).isTrue();
        assertThat(out.get(0).gainPoints()).isCloseTo(1.0, within(1e-9));
        assertThat(out.get(0).significant()).isFalse();
        assertThat(out.get(2).testStd()).isCloseTo(0.01, within(1e-12));
    }

    @Test
    void oneSeedIsNeverSignificant() {
        String[] best = new String[1];
        List<Comparison.Method> out = Comparison.withGains(List.of(m("hard", true, List.of(0.8), List.of(0.8)),
                m("kd", false, List.of(0.9), List.of(0.9))), best);
        assertThat(out.get(1).gainPoints()).isCloseTo(10, within(1e-9));
        assertThat(out.get(1).significant()).isFalse();
    }

    @Test
    void drawsATableAndAnHtmlSection() {
        String[] best = new String[1];
        List<Comparison.Method> methods = Comparison.withGains(List.of(m("hard <labels>", true, List.of(0.8, 0.82),
                List.of(0.79, 0.81)), m("kd", false, List.of(0.85, 0.86), List.of(0.84, 0.86))), best);
        Comparison c = new Comparison("2026-11-30T00:00:00Z", "job.conf", 2, 9098, "ensemble of a.zip, b.onnx", "abc",
                0.9364, 54000, 540, 6000, 10000, null, best[0], methods);
        assertThat(c.table()).contains("comparison: 2 seeds, 9,098-parameter student; trained on 54,000"
                        + " rows (540 labelled), validation 6,000 rows held out of them, test 10,000 rows\n"
                        + "teacher: ensemble of a.zip, b.onnx, 93.64% on the test split\n")
                .contains("hard <labels>", "80.00 ± 1.41", "(best hard-label)", "+5.00 ± 1.41");
        String html = ReportHtml.renderComparison(c);
        assertThat(html).contains("<table id=\"comparison\">", "hard &lt;labels&gt;", "id=\"comparison-chart\"",
                "best hard-label", "Teacher: ensemble of a.zip, b.onnx, 93.64% on the test split.");
        assertThat(html.split("<circle", -1)).hasSize(5);
    }

    private static List<Double> plus(double base, List<Double> d) {
        return d.stream().map(x -> base + x).toList();
    }
}
