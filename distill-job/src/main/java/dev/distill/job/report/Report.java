package dev.distill.job.report;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.distill.student.Evaluation;
import dev.distill.student.compress.Pruning;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code report/report.json}, as typed records: the teacher, the distilled student and its hard-label
 * baseline on the test split, a summary (the distillation gain and size ratios) and the stage table of every
 * deployable form. Written and read by {@link dev.distill.job.Json} (snake_case field names, absent fields
 * left out); {@link ReportHtml} and {@link #table()} draw from the same record.
 *
 * @param classNames the classes' names in label order ({@code kd.dataset.class-names}); null when not named
 * @param baseline null when the job has no hard-label baseline
 * @param stages     the stage table; empty when the test split is empty
 * @param comparison what {@code distill compare} last measured with the same teacher, or null
 */
public record Report(String jobFile, String createdAt, String outputDir, List<String> classNames, Scores teacher,
                     Scores student, Scores baseline, Summary summary, List<StageRow> stages,
                     Map<String, Object> versions, Comparison comparison) {

    /** This report with {@code c} as its comparison section (null for none). */
    public Report withComparison(Comparison c) {
        return new Report(jobFile, createdAt, outputDir, classNames, teacher, student, baseline, summary, stages,
                versions, c);
    }

    /** The name of class {@code k}: its given name, else the label number. */
    public String className(int k) {
        return classNames == null || k >= classNames.size() ? Integer.toString(k) : classNames.get(k);
    }

    /**
     * One model on the test split. Agreement and KL to the teacher, the quantisation, sparsity and history are
     * for the student and baseline only (null for the teacher).
     */
    public record Scores(Double testAccuracy, long testRows, List<Double> perClassAccuracy, long[][] confusionMatrix,
                         Double teacherAgreement, Double meanKlToTeacher, QuantisationAware quantisationAware,
                         List<Pruning.LayerSparsity> sparsityByLayer, long parameters, String modelFile,
                         long modelFileBytes, List<Epoch> history) {

        /** The scores of an evaluation; with {@code withTeacher}, also agreement and KL to the teacher. */
        public static Scores of(Evaluation e, boolean withTeacher) {
            List<Double> perClass = new ArrayList<>();
            for (double v : e.perClassAccuracy()) {
                perClass.add(v);
            }
            return new Scores(e.labelled() == 0 ? null : e.accuracy(), e.labelled(), perClass, e.confusion(),
                    withTeacher ? e.teacherAgreement() : null, withTeacher ? e.meanKlToTeacher() : null, null, null, 0,
                    null, 0, null);
        }

        /** These scores with the model's size and file. */
        public Scores withModel(long parameters, String modelFile, long modelFileBytes) {
            return new Scores(testAccuracy, testRows, perClassAccuracy, confusionMatrix, teacherAgreement,
                    meanKlToTeacher, quantisationAware, sparsityByLayer, parameters, modelFile, modelFileBytes, history);
        }

        /** These scores with what training left: quantisation (or null), sparsity and per-epoch history. */
        public Scores withTraining(QuantisationAware q, List<Pruning.LayerSparsity> sparsity, List<Epoch> epochs) {
            return new Scores(testAccuracy, testRows, perClassAccuracy, confusionMatrix, teacherAgreement,
                    meanKlToTeacher, q, sparsity, parameters, modelFile, modelFileBytes, epochs);
        }
    }

    /** How a quantisation-aware student was trained. */
    public record QuantisationAware(int weightBits) {
    }

    /** One trained epoch, as {@code history.json} holds it. */
    public record Epoch(int epoch, double loss, @JsonInclude(JsonInclude.Include.ALWAYS) Double testAccuracy, long examples,
                        int rounds, double seconds) {
    }

    /**
     * @param kdGainPoints the student's test accuracy minus the baseline's, in points; null without a baseline
     */
    public record Summary(Double kdGainPoints, double parameterRatioTeacherToStudent,
                          double fileRatioTeacherToStudent) {
    }

    /**
     * One deployable form measured by {@link StageTable}: accuracy, agreement with the teacher, size, batch-1
     * latency (median and p95) and throughput at batch {@value StageTable#BATCH}, and agreement with the
     * stage it should reproduce.
     */
    public record StageRow(String stage, String engine, Double testAccuracy, double teacherAgreement, long parameters,
                           long fileBytes, double compressionVsTeacherFile, double latencyBatch1MedianMs,
                           double latencyBatch1P95Ms,
                           @JsonProperty("throughput_batch256_rows_per_s") double throughputRowsPerSecond,
                           AgreementWith agreementWith) {
    }

    /** The share of test rows on which a stage predicts what {@code stage} predicts. */
    public record AgreementWith(String stage, double agreement) {
    }

    /** The headline table, the gain and sparsity lines, and the stage table, as printed after evaluate and run. */
    public String table() {
        return ReportTables.render(this);
    }
}
