package dev.distill.job.stages;

import dev.distill.job.JobContext;
import dev.distill.job.Json;
import dev.distill.job.Provenance;
import dev.distill.job.Workspace;
import dev.distill.job.report.Report;
import dev.distill.job.report.ReportHtml;
import dev.distill.job.report.StageTable;
import dev.distill.runtime.Int8Model;
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

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code evaluate}: the teacher (from its stored test logits), the distilled student and its hard-label
 * baseline on the test split, on the cluster; then the stage table of every deployable form on the driver
 * ({@link StageTable}); writes {@code report/report.json} and {@code report/report.html} and prints the
 * tables. A quantisation-aware student is scored fake-quantised, as it will be deployed.
 */
final class EvaluateStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    /** The facts of {@code report/provenance.json}. */
    record Facts(String report, long testRows) {
    }

    @Override
    public String name() {
        return "evaluate";
    }

    @Override
    public String folder() {
        return "report";
    }

    @Override
    public String makes() {
        return "report/";
    }

    @Override
    public StageKey key(JobContext ctx) {
        Workspace w = ctx.workspace();
        StageKey.Builder k = StageKey.builder().part("teacher model", ctx.teacherSha256())
                .recorded(ctx, "soft labels", w.path("soft-labels", Provenance.FILE))
                .file(ctx, "student model", w.model("student"))
                // Renaming the classes redraws the report; timing the stages longer measures them again.
                .settings(ctx, "kd.dataset.class-names").settings(ctx, "kd.report");
        if (ctx.settings().student().baseline()) {
            k.file(ctx, "baseline model", w.model("baseline"));
        } else {
            k.part("baseline model", "none");
        }
        String int8 = w.path("export", "student.int8");
        String onnx = w.path("export", "student.onnx");
        return k.part("exported files", dev.distill.datasets.Sha256.of(
                (w.exists(int8) ? w.sha256(int8) : "missing") + (w.exists(onnx) ? w.sha256(onnx) : "missing"))).build();
    }

    @Override
    public boolean complete(JobContext ctx) {
        Workspace w = ctx.workspace();
        return w.exists(w.path("report", "report.json")) && w.exists(w.path("report", "report.html"));
    }

    @Override
    public Object run(JobContext ctx) {
        ctx.describe(name(), "evaluate teacher, student and baseline on the test split");
        Workspace w = ctx.workspace();
        int numClasses = ctx.settings().dataset().numClasses();
        Dataset<Row> test = SoftLabels.joined(ctx, "test").rows().cache();
        try {
            List<String> teacherModels = ctx.teacherModels();
            Teacher teacherNet = ctx.teacherSource().open(w.hadoop(), 1);
            try {
                // An ensemble is named after its members; its size is theirs together.
                Report.Scores teacher = Report.Scores.of(ClusterEvaluator.evaluateTeacherLogits(test, numClasses), false)
                        .withModel(teacherNet.parameters(), String.join(" + ", teacherModels),
                                teacherModels.stream().mapToLong(w::size).sum());
                Report.Scores student = scores(ctx, "student", test, numClasses);
                if (student == null) {
                    throw new IllegalArgumentException("student model not found: " + w.model("student")
                            + "; run `distill train-student <job.conf>` first");
                }
                // A baseline left by an earlier run with other settings is not this job's.
                Report.Scores baseline = ctx.settings().student().baseline() ? scores(ctx, "baseline", test, numClasses)
                        : null;
                Report.Summary summary = new Report.Summary(
                        baseline == null ? null : 100 * (student.testAccuracy() - baseline.testAccuracy()),
                        (double) teacher.parameters() / student.parameters(),
                        (double) teacher.modelFileBytes() / student.modelFileBytes());
                List<Report.StageRow> stages = stages(ctx, test, numClasses, teacherNet, teacher.modelFileBytes());
                List<String> names = ctx.classNames();
                Report report = new Report(ctx.jobFile(), Instant.now().toString(), w.root(),
                        names.isEmpty() ? null : names, teacher, student,
                        baseline, summary, stages, JobContext.versions(), null)
                        .withComparison(Compare.lastComparison(ctx));
                String path = w.path("report", "report.json");
                w.writeString(path, Json.write(report));
                String html = w.path("report", "report.html");
                w.writeString(html, ReportHtml.render(report));
                LOG.info("evaluate: wrote {} and {}", path, html);
                return new Facts(path, teacher.testRows());
            } finally {
                if (teacherNet instanceof AutoCloseable c) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        LOG.info("evaluate: closing the teacher: {}", e.getMessage());
                    }
                }
            }
        } finally {
            test.unpersist();
        }
    }

    /** The scores of {@code who}'s model on the test split, or null when it has none. */
    private static Report.Scores scores(JobContext ctx, String who, Dataset<Row> test, int numClasses) {
        Workspace w = ctx.workspace();
        String model = w.model(who);
        if (!w.exists(model)) {
            return null;
        }
        MultiLayerNetwork net = ctx.loadNetwork(model);
        Qat qat = Qat.isQuantised(net) ? Qat.of(ctx.settings().student().architecture()) : null;
        Report.Scores s = Report.Scores.of(ClusterEvaluator.evaluate(test, qat == null ? net : qat.fakeQuantised(net),
                numClasses), true).withModel(net.numParams(), model, w.size(model));
        String history = w.path(who, "history.json");
        List<Report.Epoch> epochs = w.exists(history)
                ? Json.read(w.readString(history), NetworkTraining.History.class).epochs() : null;
        return s.withTraining(qat == null ? null : new Report.QuantisationAware(qat.bits()), Pruning.sparsityByLayer(net),
                epochs);
    }

    /**
     * Teacher, student fp32, student fake-quantised (after QAT), the int8 file in the runtime and the ONNX
     * file in ONNX Runtime, measured by {@link StageTable} on the driver.
     */
    private static List<Report.StageRow> stages(JobContext ctx, Dataset<Row> test, int numClasses, Teacher teacher,
                                                long teacherBytes) {
        ctx.describe("evaluate", "measure accuracy and latency of each deployable stage on the driver");
        Workspace w = ctx.workspace();
        StageTable.TestSet set = SoftLabels.testSet(ctx, test);
        StageTable.Timing timing = ctx.settings().reportTiming();
        List<Report.StageRow> rows = new ArrayList<>();
        if (set.x().length == 0) {
            return rows;
        }
        rows.add(StageTable.measure("teacher fp32", teacher instanceof OnnxTeacher ? "ONNX Runtime"
                        : teacher instanceof dev.distill.teacher.EnsembleTeacher ? "ensemble" : "ND4J",
                StageTable.teacher(teacher), timing, set, numClasses, teacher.parameters(), teacherBytes, teacherBytes, null).row());
        String model = w.model("student");
        MultiLayerNetwork student = ctx.loadNetwork(model);
        long studentBytes = w.size(model);
        Qat qat = Qat.isQuantised(student) ? Qat.of(ctx.settings().student().architecture()) : null;
        StageTable.Measured fp32 = StageTable.measure("student fp32", "ND4J", StageTable.nd4j(Qat.floatCopy(student)),
                timing, set, numClasses, student.numParams(), studentBytes, teacherBytes, null);
        rows.add(fp32.row());
        // What the deployable files should reproduce: the fake-quantised network after QAT, else the fp32 one.
        StageTable.Measured reference = fp32;
        if (qat != null) {
            reference = StageTable.measure("student fake-quantised", "ND4J", StageTable.nd4j(qat.fakeQuantised(student)),
                    timing, set, numClasses, student.numParams(), studentBytes, teacherBytes, fp32);
            rows.add(reference.row());
        }
        StageTable.Measured ref = reference;
        String int8 = w.path("export", "student.int8");
        long int8Parameters = 0;
        if (w.exists(int8)) {
            Int8Model m = StageTable.readInt8(w, int8);
            int[] known = ctx.remembered(SoftLabels.INT8_PREDICTIONS + w.sha256(int8));   // export's, in a run
            // The file's own count: batch norm folded into the layer before it holds no parameters there.
            // distill-simd: the runtime on SIMD registers (the JVM has the Vector API); distill-rt: its scalar loops.
            rows.add(StageTable.measure("student int8 file", m.simd() ? "distill-simd" : "distill-rt", StageTable.int8(m),
                    timing, set, numClasses,
                    m.parameters(), w.size(int8), teacherBytes, ref, known).row());
            int8Parameters = m.parameters();
        }
        String onnx = w.path("export", "student.onnx");
        if (w.exists(onnx)) {
            byte[] bytes = w.readBytes(onnx);
            long parameters = int8Parameters > 0 ? int8Parameters : student.numParams();
            rows.add(StageTable.withOnnxRuntime(bytes, engine -> StageTable.measure("student ONNX (QDQ)",
                    "ONNX Runtime", engine, timing, set, numClasses, parameters, bytes.length, teacherBytes, ref)).row());
        }
        return rows;
    }

    /** The report's tables, from {@code report/report.json}, after a command that ran or skipped evaluate. */
    @Override
    public void summarise(JobContext ctx, PrintStream out) {
        String path = ctx.workspace().path("report", "report.json");
        if (ctx.workspace().exists(path)) {
            out.println();
            out.print(Json.read(ctx.workspace().readString(path), Report.class).table());
        }
    }

    @Override
    public List<Output> outputs(Workspace w) {
        return List.of(new Output("report", w.path("report", "report.json")),
                new Output("", w.path("report", "report.html")));
    }
}
