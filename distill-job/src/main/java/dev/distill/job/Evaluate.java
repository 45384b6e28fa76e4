package dev.distill.job;

import dev.distill.runtime.Int8Model;
import dev.distill.student.Evaluation;
import dev.distill.student.compress.Pruning;
import dev.distill.student.quant.Qat;
import dev.distill.student.spark.ClusterEvaluator;
import dev.distill.teacher.OnnxTeacher;
import dev.distill.teacher.Teacher;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * evaluate: teacher (from its stored test logits), distilled student and hard-label baseline on the test
 * split, on the cluster; then the per-stage table of the deployable forms ({@link StageTable}); writes
 * {@code report/report.json} and prints the headline table. A quantisation-aware student is scored
 * fake-quantised, as it will be deployed.
 */
final class Evaluate {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    private Evaluate() {
    }

    static Map<String, Object> run(JobContext ctx) {
        ctx.describe("evaluate", "evaluate teacher, student and baseline on the test split");
        int numClasses = ctx.settings.dataset().numClasses();
        Dataset<Row> test = Stages.softLabelled(ctx, "test").rows().cache();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("job_file", ctx.jobFile);
        report.put("created_at", Instant.now().toString());
        report.put("output_dir", ctx.workspace.root());

        Evaluation teacherEval = ClusterEvaluator.evaluateTeacherLogits(test, numClasses);
        Map<String, Object> teacher = teacherEval.toMap(false);
        String teacherModel = Stages.teacherModel(ctx);
        report.put(StageKeys.KEY, StageKeys.evaluate(ctx, teacherModel));
        Teacher teacherNet = openTeacher(ctx, teacherModel);
        teacher.put("parameters", teacherNet.parameters());
        teacher.put("model_file", teacherModel);
        teacher.put("model_file_bytes", ctx.workspace.size(teacherModel));
        report.put("teacher", teacher);

        for (String who : new String[] {"student", "baseline"}) {
            String model = ctx.workspace.model(who);
            if ("baseline".equals(who) && !ctx.settings.student().baseline()) {
                continue; // a baseline left by an earlier run with other settings is not this job's
            }
            if (!ctx.workspace.exists(model)) {
                if ("student".equals(who)) {
                    throw new IllegalArgumentException("student model not found: " + model
                            + "; run `distill train-student <job.conf>` first");
                }
                continue;
            }
            MultiLayerNetwork net = ctx.loadNetwork(model);
            Qat qat = Qat.isQuantised(net) ? Qat.of(ctx.settings.student().architecture()) : null;
            Map<String, Object> m = ClusterEvaluator.evaluate(test, qat == null ? net : qat.fakeQuantised(net), numClasses)
                    .toMap(true);
            if (qat != null) {
                m.put("quantisation_aware", Map.of("weight_bits", qat.bits()));
            }
            m.put("sparsity_by_layer", Pruning.sparsityByLayer(net));
            m.put("parameters", net.numParams());
            m.put("model_file", model);
            m.put("model_file_bytes", ctx.workspace.size(model));
            String history = ctx.workspace.path(who, "history.json");
            if (ctx.workspace.exists(history)) {
                m.put("history", Json.read(ctx.workspace.readString(history)).get("epochs"));
            }
            report.put(who, m);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> student = (Map<String, Object>) report.get("student");
        @SuppressWarnings("unchecked")
        Map<String, Object> baseline = (Map<String, Object>) report.get("baseline");
        Map<String, Object> summary = new LinkedHashMap<>();
        if (baseline != null) {
            summary.put("kd_gain_points", 100 * ((double) student.get("test_accuracy") - (double) baseline.get("test_accuracy")));
        }
        summary.put("parameter_ratio_teacher_to_student",
                ((Number) teacher.get("parameters")).doubleValue() / ((Number) student.get("parameters")).doubleValue());
        summary.put("file_ratio_teacher_to_student",
                ((Number) teacher.get("model_file_bytes")).doubleValue() / ((Number) student.get("model_file_bytes")).doubleValue());
        report.put("summary", summary);
        report.put("stages", stages(ctx, test, numClasses, teacherNet,
                ((Number) teacher.get("model_file_bytes")).longValue()));
        if (teacherNet instanceof OnnxTeacher o) {
            o.close();
        }
        report.put("versions", JobContext.versions());
        String path = ctx.workspace.path("report", "report.json");
        String json = Json.write(report);
        ctx.workspace.writeString(path, json);
        String html = ctx.workspace.path("report", "report.html");
        ctx.workspace.writeString(html, ReportHtml.render(Json.read(json)));
        test.unpersist();
        LOG.info("evaluate: wrote {} and {}", path, html);
        return report;
    }

    /**
     * Teacher, student fp32, student fake-quantised (after QAT), the int8 file in the runtime and the ONNX
     * file in ONNX Runtime, measured by {@link StageTable}.
     */
    private static List<Map<String, Object>> stages(JobContext ctx, Dataset<Row> test, int numClasses, Teacher teacher,
                                                    long teacherBytes) {
        ctx.describe("evaluate", "measure accuracy and latency of each deployable stage on the driver");
        StageTable.TestSet set = StageTable.TestSet.collect(test);
        List<Map<String, Object>> rows = new ArrayList<>();
        if (set.x().length == 0) {
            return rows;
        }
        rows.add(StageTable.measure("teacher fp32", teacher instanceof OnnxTeacher ? "ONNX Runtime" : "ND4J",
                StageTable.teacher(teacher), set, numClasses, teacher.parameters(), teacherBytes, teacherBytes, null));
        String model = ctx.workspace.model("student");
        MultiLayerNetwork student = ctx.loadNetwork(model);
        long studentBytes = ctx.workspace.size(model);
        Qat qat = Qat.isQuantised(student) ? Qat.of(ctx.settings.student().architecture()) : null;
        Map<String, Object> fp32 = StageTable.measure("student fp32", "ND4J", StageTable.nd4j(Qat.floatCopy(student)),
                set, numClasses, student.numParams(), studentBytes, teacherBytes, null);
        rows.add(fp32);
        // What the deployable files should reproduce: the fake-quantised network after QAT, else the fp32 one.
        Map<String, Object> reference = fp32;
        if (qat != null) {
            reference = StageTable.measure("student fake-quantised", "ND4J", StageTable.nd4j(qat.fakeQuantised(student)),
                    set, numClasses, student.numParams(), studentBytes, teacherBytes, fp32);
            rows.add(reference);
        }
        Map<String, Object> ref = reference;
        String int8 = ctx.workspace.path("export", "student.int8");
        if (ctx.workspace.exists(int8)) {
            Int8Model m = StageTable.readInt8(ctx, int8);
            rows.add(StageTable.measure("student int8 file", "distill-rt", StageTable.int8(m), set, numClasses,
                    student.numParams(), ctx.workspace.size(int8), teacherBytes, ref));
        }
        String onnx = ctx.workspace.path("export", "student.onnx");
        if (ctx.workspace.exists(onnx)) {
            byte[] bytes = ctx.workspace.readBytes(onnx);
            long parameters = student.numParams();
            rows.add(StageTable.withOnnxRuntime(bytes, engine -> StageTable.measure("student ONNX (QDQ)",
                    "ONNX Runtime", engine, set, numClasses, parameters, bytes.length, teacherBytes, ref)));
        }
        return StageTable.withoutPredictions(rows);
    }

    /** The job's teacher (DL4J or ONNX), opened on the driver with one thread. */
    private static Teacher openTeacher(JobContext ctx, String model) {
        return ctx.settings.teacher().source(model, ctx.data().featureLength(), ctx.settings.dataset().numClasses())
                .open(ctx.workspace.hadoop(), 1);
    }

    /** The headline table printed at the end of evaluate and run. */
    @SuppressWarnings("unchecked")
    static String table(Map<String, Object> report) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-10s %10s %12s %14s %10s %9s%n", "model", "test acc", "parameters", "file bytes",
                "agreement", "KL"));
        for (String who : new String[] {"teacher", "student", "baseline"}) {
            Map<String, Object> m = (Map<String, Object>) report.get(who);
            if (m == null) {
                continue;
            }
            b.append(String.format("%-10s %9.2f%% %,12d %,14d %10s %9s%n", who,
                    100 * ((Number) m.get("test_accuracy")).doubleValue(),
                    ((Number) m.get("parameters")).longValue(), ((Number) m.get("model_file_bytes")).longValue(),
                    m.containsKey("teacher_agreement")
                            ? String.format("%.2f%%", 100 * ((Number) m.get("teacher_agreement")).doubleValue()) : "-",
                    m.containsKey("mean_kl_to_teacher")
                            ? String.format("%.4f", ((Number) m.get("mean_kl_to_teacher")).doubleValue()) : "-"));
        }
        Map<String, Object> s = (Map<String, Object>) report.get("summary");
        if (s != null && s.get("kd_gain_points") != null) {
            b.append(String.format("distillation gain over the hard-label baseline: %+.2f points%n",
                    ((Number) s.get("kd_gain_points")).doubleValue()));
        }
        Map<String, Object> student = (Map<String, Object>) report.get("student");
        List<Map<String, Object>> sparsity = student == null ? null : (List<Map<String, Object>>) student.get("sparsity_by_layer");
        if (sparsity != null && sparsity.stream().anyMatch(m -> ((Number) m.get("zeros")).longValue() > 0)) {
            b.append("student sparsity by weight layer:");
            for (Map<String, Object> m : sparsity) {
                b.append(String.format(" %.1f%% of %,d", 100 * ((Number) m.get("sparsity")).doubleValue(),
                        ((Number) m.get("weights")).longValue()));
            }
            b.append(System.lineSeparator());
        }
        List<Map<String, Object>> stages = (List<Map<String, Object>>) report.get("stages");
        if (stages != null && !stages.isEmpty()) {
            b.append(System.lineSeparator()).append("stages (test split; latency and throughput on one thread):")
                    .append(System.lineSeparator()).append(StageTable.table(stages));
        }
        return b.toString();
    }
}
