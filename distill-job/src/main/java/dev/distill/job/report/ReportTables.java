package dev.distill.job.report;

import dev.distill.student.compress.Pruning;

import java.util.List;

/** The report as text tables for the console: headline, gain, sparsity, and the stage table. */
final class ReportTables {
    private ReportTables() {
    }

    static String render(Report report) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-10s %10s %12s %14s %10s %9s%n", "model", "test acc", "parameters", "file bytes",
                "agreement", "KL"));
        headline(b, "teacher", report.teacher());
        headline(b, "student", report.student());
        headline(b, "baseline", report.baseline());
        if (report.summary() != null && report.summary().kdGainPoints() != null) {
            b.append(String.format("distillation gain over the hard-label baseline: %+.2f points (one seed; `distill"
                    + " compare` measures it over several)%n", report.summary().kdGainPoints()));
        }
        List<Pruning.LayerSparsity> sparsity = report.student() == null ? null : report.student().sparsityByLayer();
        if (sparsity != null && sparsity.stream().anyMatch(m -> m.zeros() > 0)) {
            b.append("student sparsity by weight layer:");
            for (Pruning.LayerSparsity m : sparsity) {
                b.append(String.format(" %.1f%% of %,d", 100 * m.sparsity(), m.weights()));
            }
            b.append(System.lineSeparator());
        }
        if (report.stages() != null && !report.stages().isEmpty()) {
            b.append(System.lineSeparator()).append("stages (test split; latency and throughput on one thread):")
                    .append(System.lineSeparator()).append(stages(report.stages()));
        }
        if (report.comparison() != null) {
            b.append(System.lineSeparator()).append(report.comparison().table());
        }
        return b.toString();
    }

    private static void headline(StringBuilder b, String who, Report.Scores m) {
        if (m == null) {
            return;
        }
        b.append(String.format("%-10s %10s %,12d %,14d %10s %9s%n", who, percent(m.testAccuracy()), m.parameters(),
                m.modelFileBytes(), m.teacherAgreement() == null ? "-" : percent(m.teacherAgreement()),
                m.meanKlToTeacher() == null ? "-" : String.format("%.4f", m.meanKlToTeacher())));
    }

    private static String percent(Double v) {
        return v == null || v.isNaN() ? "-" : String.format("%.2f%%", 100 * v);
    }

    /** The stage table printed after the headline table. */
    static String stages(List<Report.StageRow> stages) {
        StringBuilder b = new StringBuilder(String.format("%-22s %-12s %9s %9s %11s %12s %7s %9s %9s %11s  %s%n",
                "stage", "engine", "test acc", "agreement", "parameters", "file bytes", "vs T", "b1 ms", "b1 p95",
                "b" + StageTable.BATCH + " rows/s", "same prediction as"));
        for (Report.StageRow m : stages) {
            Report.AgreementWith with = m.agreementWith();
            b.append(String.format("%-22s %-12s %9s %8.2f%% %,11d %,12d %7s %9.3f %9.3f %,11.0f  %s%n",
                    m.stage(), m.engine(), percent(m.testAccuracy()), 100 * m.teacherAgreement(), m.parameters(),
                    m.fileBytes(), times(m.compressionVsTeacherFile()), m.latencyBatch1MedianMs(),
                    m.latencyBatch1P95Ms(), m.throughputRowsPerSecond(),
                    with == null ? "" : String.format("%s on %.2f%%", with.stage(), 100 * with.agreement())));
        }
        return b.toString();
    }

    /** A size ratio: whole numbers from 10 up, one decimal below (a student larger than its teacher: 0.4x). */
    static String times(double ratio) {
        return ratio >= 9.95 ? String.format("%,.0fx", ratio) : String.format("%.1fx", ratio);
    }
}
