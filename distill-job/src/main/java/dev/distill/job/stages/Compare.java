package dev.distill.job.stages;

import dev.distill.datasets.Sha256;
import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.datasets.spark.SoftLabelReader;
import dev.distill.job.CompareSettings;
import dev.distill.job.JobContext;
import dev.distill.job.Json;
import dev.distill.job.Workspace;
import dev.distill.job.report.Comparison;
import dev.distill.job.report.Report;
import dev.distill.job.report.ReportHtml;
import dev.distill.student.NetworkSpec;
import dev.distill.student.StudentSettings;
import dev.distill.student.TrainingSettings;
import dev.distill.student.compress.Pruning;
import dev.distill.student.quant.Qat;
import dev.distill.student.spark.ClusterEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code distill compare <job.conf> [--seeds N]}: makes the teacher and the soft labels as {@code run} does
 * (skipping what is up to date), holds {@code kd.compare.validation-fraction} of the labelled training rows out
 * by a seeded hash of the id (unlabelled rows cannot score a method, so they all stay in training), then trains the job's student with every method of {@code kd.compare.methods} for
 * each seed, all with the same epochs and settings ({@code kd.student.training}; seed s uses the training seed
 * + s − 1), and scores each on the validation rows and on the test split. Hard-label methods learn from the
 * labelled training rows only; distillation methods from all of them. Each (method, seed) is kept in
 * {@code compare/<method>/seed-<s>/} with its {@code result.json}; a rerun reuses those made with the same
 * settings and data (so a stopped comparison resumes), and {@code --force} trains them all again. Writes
 * {@code report/compare.json}, adds the comparison to {@code report/report.json} and {@code report.html} when
 * they exist (else writes {@code report/compare.html}), and prints the table.
 */
public final class Compare {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");
    /** {@code report/compare.json}. */
    static final String FILE = "compare.json";

    /** One (method, seed): its accuracies, training time and the key of what made it. */
    record SeedResult(String key, double validationAccuracy, double testAccuracy, double seconds) {
    }

    private Compare() {
    }

    /** The comparison of {@code report/compare.json} when it was made with this job's teacher, else null. */
    public static Comparison lastComparison(JobContext ctx) {
        Workspace w = ctx.workspace();
        String path = w.path("report", FILE);
        if (!w.exists(path)) {
            return null;
        }
        try {
            Comparison c = Json.read(w.readString(path), Comparison.class);
            String sha = ctx.teacherSha256();
            return sha.equals(c.teacherSha256()) ? c : null;
        } catch (RuntimeException e) {
            LOG.info("{}: not read ({}); the report leaves the comparison out", path, e.getMessage());
            return null;
        }
    }

    /** True for rows held out for validation: a seeded hash of the id, apart from the test split's. */
    static Column validationRows(double fraction, long seed) {
        return DatasetLoader.idBucket(seed * 31 + 0x5EED).lt(functions.lit(Math.round(fraction * 1_000_000)));
    }

    public static Comparison run(JobContext ctx, PrintStream out, boolean force) {
        List<Stage> before = ctx.settings().teacher().trainedHere()
                ? List.of(Stages.named("train-teacher"), Stages.named("label")) : List.of(Stages.named("label"));
        // --force redoes the comparison's runs, not the teacher or the soft labels (`run --force` does those).
        new StageRunner(ctx, true, false).runQuietly(before);
        CompareSettings cs = ctx.settings().compare();
        StudentSettings s = ctx.settings().student();
        Workspace w = ctx.workspace();
        int numClasses = ctx.settings().dataset().numClasses();

        ctx.describe("compare", "read the soft labels and hold out the validation rows");
        SoftLabels.Joined soft = SoftLabels.joined(ctx, "train");
        SoftLabelStore.Info info = soft.info();
        long splitSeed = ctx.settings().dataset().splitSeed();
        // Only labelled rows can score a method: validation is a share of them; unlabelled rows all train.
        Column heldOut = validationRows(cs.validationFraction(), splitSeed).and(functions.col("label").isNotNull());
        Dataset<Row> all = soft.rows();
        Dataset<Row> fit = all.filter(functions.not(heldOut)).cache();
        Dataset<Row> validation = all.filter(heldOut).cache();
        Dataset<Row> labelled = fit.filter(functions.col("label").isNotNull()).cache();
        Dataset<Row> test = SoftLabels.joined(ctx, "test").rows().cache();
        long fitRows = fit.count();
        long labelledRows = labelled.count();
        long validationCount = validation.count();
        long testRows = test.count();
        double teacherAccuracy = ClusterEvaluator.evaluateTeacherLogits(test, numClasses).accuracy();
        if (validationCount == 0) {
            throw new IllegalArgumentException("kd.compare.validation-fraction = " + cs.validationFraction()
                    + " holds out no labelled training row; the validation split needs labels to score methods on");
        }
        NetworkSpec spec = new NetworkSpec(info.metadata().inputShape(), numClasses, s.architecture().layers())
                .withQuantisation(s.architecture().quantisation());
        float[] initial = null;
        if (!s.initFrom().isEmpty()) {
            TrainStudentStage.Start start = TrainStudentStage.start(ctx, spec, s);
            spec = start.spec();
            initial = start.params();
        }
        Pruning pruning = Pruning.of(spec, s.pruning());
        Qat qat = Qat.of(spec);
        // The data itself (both splits' keys: sources, labelled-fraction, normalisation, ...) and how the
        // validation rows are drawn, so that no result or checkpoint of other data is ever reused.
        String dataKey = info.metadata().teacherSha256() + "/" + info.rows() + "/" + ctx.dataKey("train") + "/"
                + ctx.dataKey("test") + "/validation " + cs.validationFraction() + " " + splitSeed
                + "/views " + info.metadata().views() + " " + info.metadata().augmentation();
        LOG.info("compare: {} methods x {} seeds; training on {} rows ({} labelled), validation {}, test {}",
                cs.methods().size(), cs.seeds(), fitRows, labelledRows, validationCount, testRows);

        List<List<SeedResult>> results = new ArrayList<>();
        for (int m = 0; m < cs.methods().size(); m++) {
            results.add(new ArrayList<>());
        }
        long parameters = 0;
        try {
            for (int seed = 1; seed <= cs.seeds(); seed++) {
                for (int m = 0; m < cs.methods().size(); m++) {
                    CompareSettings.Method method = cs.methods().get(m);
                    TrainingSettings t = method.training().withSeed(s.training().seed() + seed - 1);
                    String who = "compare/" + method.slug() + "/seed-" + seed;
                    String key = Sha256.of(String.join("\n", method.loss().getClass().getName(),
                            method.loss().settings().toString(), method.name(), Boolean.toString(method.views()),
                            t.toString(), java.util.Arrays.toString(spec.inputShape()) + " " + spec.numClasses() + " "
                                    + spec.layers() + " " + spec.quantisation(), dataKey,
                            method.augment() ? ctx.settings().augmentation().toString() : "",
                            s.pruning().toString(), s.initFrom()));
                    String resultPath = w.path(who, "result.json");
                    SeedResult done = force || !w.exists(resultPath) ? null
                            : Json.read(w.readString(resultPath), SeedResult.class);
                    if (done != null && done.key().equals(key) && w.exists(w.model(who))) {
                        LOG.info("compare: {} seed {}: up to date ({}), validation {}, test {}", method.name(), seed,
                                resultPath, pct(done.validationAccuracy()), pct(done.testAccuracy()));
                        results.get(m).add(done);
                        continue;
                    }
                    if (force) {
                        w.delete(w.checkpoint(who));
                    }
                    ctx.describe("compare", method.name() + ", seed " + seed + " of " + cs.seeds());
                    Dataset<Row> rows = method.hardLabels() ? labelled
                            : method.views() ? fit : fit.drop(SoftLabelReader.VIEW_COLUMNS);
                    long t0 = System.nanoTime();
                    MultiLayerNetwork net = NetworkTraining.train(ctx, TrainingRequest.builder(who, spec, method.loss(), t)
                            .rows(rows, validation, dataKey).softTargets(!method.hardLabels()).hooks(pruning).initialParams(initial).scoredOn("validation")
                            .build())
                            .network();
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    parameters = net.numParams();
                    MultiLayerNetwork scored = qat == null ? net : qat.fakeQuantised(net);
                    double val = ClusterEvaluator.evaluate(validation, scored, numClasses).accuracy();
                    double acc = ClusterEvaluator.evaluate(test, scored, numClasses).accuracy();
                    SeedResult r = new SeedResult(key, val, acc, seconds);
                    w.writeString(resultPath, Json.write(r));
                    LOG.info("compare: {} seed {}: validation {}, test {} ({} s)", method.name(), seed, pct(val), pct(acc),
                            String.format("%.0f", seconds));
                    results.get(m).add(r);
                }
            }
        } finally {
            fit.unpersist();
            validation.unpersist();
            labelled.unpersist();
            test.unpersist();
        }
        if (parameters == 0) {
            parameters = spec.newNetwork(cs.methods().get(0).loss(), s.training(), 1).numParams();
        }
        List<Comparison.Measured> measured = new ArrayList<>();
        for (int m = 0; m < cs.methods().size(); m++) {
            CompareSettings.Method method = cs.methods().get(m);
            List<SeedResult> rs = results.get(m);
            measured.add(new Comparison.Measured(method.name(), method.loss().name(), method.loss().settings(),
                    method.hardLabels(), method.augment(), method.views(), method.training().epochs(),
                    rs.stream().map(SeedResult::validationAccuracy).toList(),
                    rs.stream().map(SeedResult::testAccuracy).toList(),
                    rs.stream().mapToDouble(SeedResult::seconds).average().orElse(0)));
        }
        String[] best = new String[1];
        List<Comparison.Method> methods = Comparison.withGains(measured, best);
        boolean anyAugment = cs.methods().stream().anyMatch(CompareSettings.Method::augment);
        Comparison c = new Comparison(Instant.now().toString(), ctx.jobFile(), cs.seeds(), parameters,
                info.metadata().teacherId(), info.metadata().teacherSha256(), teacherAccuracy, fitRows, labelledRows,
                validationCount, testRows, anyAugment ? ctx.settings().augmentation().describe() : null, best[0],
                methods);
        write(ctx, c);
        out.println();
        out.print(c.table());
        return c;
    }

    /** {@code report/compare.json}, and the comparison in the report (or a page of its own when there is none). */
    private static void write(JobContext ctx, Comparison c) {
        Workspace w = ctx.workspace();
        w.writeString(w.path("report", FILE), Json.write(c));
        String reportPath = w.path("report", "report.json");
        String html;
        if (w.exists(reportPath)) {
            Report report = Json.read(w.readString(reportPath), Report.class).withComparison(c);
            w.writeString(reportPath, Json.write(report));
            html = w.path("report", "report.html");
            w.writeString(html, ReportHtml.render(report));
        } else {
            html = w.path("report", "compare.html");
            w.writeString(html, ReportHtml.renderComparison(c));
        }
        LOG.info("compare: wrote {} and {}", w.path("report", FILE), html);
    }

    private static String pct(double v) {
        return String.format("%.2f%%", 100 * v);
    }
}
