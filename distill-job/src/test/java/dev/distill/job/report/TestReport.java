package dev.distill.job.report;

import dev.distill.job.Json;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TestReport {
    /** report.json keeps its field names, leaves out what a model does not have, and reads back as written. */
    @Test
    void writesSnakeCaseFieldsAndReadsBackTheSameReport() {
        Report report = TestReportHtml.report();
        String json = Json.write(report);
        Map<String, Object> m = Json.read(json);
        assertThat(m.keySet()).containsExactly("job_file", "created_at", "output_dir", "teacher", "student", "baseline",
                "summary", "stages", "versions");
        @SuppressWarnings("unchecked")
        Map<String, Object> teacher = (Map<String, Object>) m.get("teacher");
        assertThat(teacher.keySet()).containsExactly("test_accuracy", "test_rows", "per_class_accuracy",
                "confusion_matrix", "parameters", "model_file", "model_file_bytes");
        @SuppressWarnings("unchecked")
        Map<String, Object> student = (Map<String, Object>) m.get("student");
        assertThat(student.keySet()).containsExactly("test_accuracy", "test_rows", "per_class_accuracy",
                "confusion_matrix", "teacher_agreement", "mean_kl_to_teacher", "parameters", "model_file",
                "model_file_bytes", "history");
        @SuppressWarnings("unchecked")
        Map<String, Object> stage = ((List<Map<String, Object>>) m.get("stages")).get(0);
        assertThat(stage.keySet()).containsExactly("stage", "engine", "test_accuracy", "teacher_agreement", "parameters",
                "file_bytes", "compression_vs_teacher_file", "latency_batch1_median_ms", "latency_batch1_p95_ms",
                "throughput_batch256_rows_per_s");
        Report back = Json.read(json, Report.class);
        assertThat(Json.write(back)).isEqualTo(json);
        assertThat(back.table()).isEqualTo(report.table());
        assertThat(ReportHtml.render(back)).isEqualTo(ReportHtml.render(report));
    }

    /** NaN (an accuracy with no labelled rows) is written as null and read back as null: JSON has no NaN. */
    @Test
    void nonFiniteNumbersAreWrittenAsNull() {
        Report.Epoch e = new Report.Epoch(1, Double.NaN, Double.NaN, 10, 1, 0.5);
        assertThat(Json.line(e)).isEqualTo("{\"epoch\":1,\"loss\":null,\"test_accuracy\":null,\"examples\":10,"
                + "\"rounds\":1,\"seconds\":0.5}");
        assertThat(Json.read(Json.line(e), Report.Epoch.class).testAccuracy()).isNull();
    }

    @Test
    void theConsoleTableShowsEveryModelAndTheGain() {
        String table = TestReportHtml.report().table();
        assertThat(table).startsWith(String.format("%-10s %10s %12s %14s %10s %9s%n", "model", "test acc", "parameters",
                "file bytes", "agreement", "KL")
                + String.format("teacher        90.00%%    1,000,000      4,000,000          -         -%n")
                + String.format("student        85.00%%       10,000         40,000     93.00%%    0.0700%n")
                + String.format("baseline       84.00%%       10,000         40,100     93.00%%    0.0700%n")
                + String.format("distillation gain over the hard-label baseline: +1.00 points (one seed; `distill compare` measures it over several)%n"));
        assertThat(table).contains("stages (test split; latency and throughput on one thread):",
                "student int8 file      distill-rt      84.90%");
    }
}
