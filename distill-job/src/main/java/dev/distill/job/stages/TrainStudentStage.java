package dev.distill.job.stages;

import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.job.JobContext;
import dev.distill.job.Provenance;
import dev.distill.job.Workspace;
import dev.distill.student.FlatArrays;
import dev.distill.student.NetworkSpec;
import dev.distill.student.StudentSettings;
import dev.distill.student.compress.LowRank;
import dev.distill.student.compress.Pruning;
import dev.distill.student.loss.DistillationLosses;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * {@code train-student}: distils the student from the soft labels (with the loss of
 * {@code kd.student.distillation.loss}, and quantisation-aware training, a low-rank start and pruning when
 * asked), and trains the same student on the hard labels alone as its baseline.
 */
final class TrainStudentStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    /** The facts of {@code student/provenance.json}; {@code baseline} says whether a baseline was trained. */
    record Facts(long parameters, String loss, Map<String, Object> distillation, long seed, long softLabelRows,
                 long labelledRows, String teacherSha256, boolean baseline) {
    }

    /** The facts of {@code baseline/provenance.json}. */
    record BaselineFacts(long parameters, long seed) {
    }

    @Override
    public String name() {
        return "train-student";
    }

    @Override
    public String folder() {
        return "student";
    }

    @Override
    public String makes() {
        return "student/ and baseline/";
    }

    @Override
    public StageKey key(JobContext ctx) {
        StageKey.Builder k = StageKey.builder()
                .recorded(ctx, "soft labels", ctx.workspace().path("soft-labels", Provenance.FILE))
                .settings(ctx, "kd.student");
        if (ctx.settings().student().training().augment()) {
            k.settings(ctx, "kd.augment");
        }
        String init = ctx.settings().student().initFrom();
        if (!init.isEmpty()) {
            k.file(ctx, "kd.student.architecture.init-from model", init);
        }
        return k.build();
    }

    @Override
    public boolean complete(JobContext ctx) {
        Workspace w = ctx.workspace();
        String record = w.path("student", Provenance.FILE);
        boolean baselineMade = w.exists(record) && Boolean.TRUE.equals(
                dev.distill.job.Json.read(w.readString(record)).get("baseline"));
        return w.exists(w.model("student")) && (!baselineMade || w.exists(w.model("baseline")));
    }

    @Override
    public Object run(JobContext ctx) {
        ctx.describe(name(), "read the soft labels and the data set");
        SoftLabels.Joined soft = SoftLabels.joined(ctx, "train");
        SoftLabelStore.Info info = soft.info();
        Dataset<Row> train = soft.rows();
        Dataset<Row> test = SoftLabels.joined(ctx, "test").rows().cache();
        StudentSettings s = ctx.settings().student();
        NetworkSpec spec = new NetworkSpec(info.metadata().inputShape(), ctx.settings().dataset().numClasses(),
                s.architecture().layers()).withQuantisation(s.architecture().quantisation());
        float[] initial = null;
        if (!s.initFrom().isEmpty()) {
            Start start = start(ctx, spec, s);
            spec = start.spec();
            initial = start.params();
        }
        Pruning pruning = Pruning.of(spec, s.pruning());
        if (pruning != null) {
            LOG.info("train-student: pruning to {} sparsity ({} steps of {} from step {}, Zhu & Gupta)",
                    s.pruning().target(), s.pruning().steps(), s.pruning().frequency(), s.pruning().startStep());
        }
        LOG.info("train-student: {} soft-labelled rows, {}{}", info.rows(), s.loss().name(), spec.quantised()
                ? ", quantisation-aware (" + spec.quantisation().weightBits() + "-bit weights, from step "
                + spec.quantisation().startStep() + ")" : "");
        String dataKey = info.metadata().teacherSha256() + "/" + info.rows() + "/views " + info.metadata().views()
                + " " + info.metadata().augmentation();
        if (info.metadata().hasViews()) {
            LOG.info("train-student: the student sees one of {} stored views per example and epoch", info.metadata().views());
        }
        var student = NetworkTraining.train(ctx, TrainingRequest.builder("student", spec, s.loss(), s.training())
                .rows(train, test, dataKey).softTargets(true).hooks(pruning).initialParams(initial).build());
        Dataset<Row> labelled = train.filter(functions.col("label").isNotNull());
        long labelledRows = labelled.count();
        if (s.baseline() && labelledRows == 0) {
            // An unlabeled transfer set: the student learned from the teacher alone; there is nothing to
            // train a hard-label baseline on. A baseline from an earlier run would be measured as this one's.
            LOG.info("train-student: the transfer set has no hard labels, so there is no hard-label baseline"
                    + " (kd.student.baseline = false says the same without this note)");
            ctx.workspace().delete(ctx.workspace().model("baseline"));
        } else if (s.baseline()) {
            var baseline = NetworkTraining.train(ctx, TrainingRequest.builder("baseline", spec,
                            DistillationLosses.hardLabels(), s.training())
                    .rows(labelled, test, dataKey).hooks(pruning).initialParams(initial).build());
            Provenance.write(ctx, "baseline", new BaselineFacts(baseline.network().numParams(), s.training().seed()),
                    null);
        }
        test.unpersist();
        return new Facts(student.network().numParams(), s.loss().name(), s.loss().settings(), s.training().seed(),
                info.rows(), labelledRows, info.metadata().teacherSha256(), s.baseline() && labelledRows > 0);
    }

    /** A student started from {@code kd.student.architecture.init-from}: its resolved architecture and parameters. */
    record Start(NetworkSpec spec, float[] params) {
    }

    /** Resolves low-rank layers against the trained model of init-from and initialises from it. */
    static Start start(JobContext ctx, NetworkSpec spec, StudentSettings s) {
        MultiLayerNetwork source = ctx.loadNetwork(s.initFrom());
        NetworkSpec resolved = LowRank.resolve(spec, source, s.initFrom());
        MultiLayerNetwork fresh = resolved.newNetwork(s.loss(), s.training(), s.training().seed());
        for (String line : LowRank.initialise(fresh, resolved, source, s.initFrom())) {
            LOG.info("train-student: initialise {}", line);
        }
        return new Start(resolved, FlatArrays.of(fresh.params()));
    }

    @Override
    public List<String> resumeState(Workspace w) {
        return List.of(w.checkpoint("student"), w.checkpoint("baseline"));
    }

    @Override
    public List<Output> outputs(Workspace w) {
        return List.of(new Output("student", w.model("student")), new Output("baseline", w.model("baseline")));
    }
}
