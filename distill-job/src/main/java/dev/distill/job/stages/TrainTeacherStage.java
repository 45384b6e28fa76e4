package dev.distill.job.stages;

import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.job.JobContext;
import dev.distill.job.Workspace;
import dev.distill.student.NetworkSpec;
import dev.distill.student.loss.DistillationLosses;
import dev.distill.teacher.TeacherSettings;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * {@code train-teacher}: trains {@code kd.teacher.architecture} on the hard labels of the training split
 * with the distributed trainer and saves {@code teacher/model.zip}. Not part of a job whose teacher is loaded.
 */
final class TrainTeacherStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    /** The facts of {@code teacher/provenance.json}. */
    record Facts(long parameters, long seed) {
    }

    @Override
    public String name() {
        return "train-teacher";
    }

    @Override
    public String folder() {
        return "teacher";
    }

    @Override
    public String makes() {
        return "teacher/";
    }

    @Override
    public String notInThisJob(JobContext ctx) {
        TeacherSettings t = ctx.settings().teacher();
        return t.trainedHere() ? null : "the teacher is loaded from " + t.model() + " (kd.teacher.source = load),"
                + " not trained here";
    }

    @Override
    public StageKey key(JobContext ctx) {
        StageKey.Builder k = StageKey.builder().settings(ctx, "kd.teacher.architecture")
                .settings(ctx, "kd.teacher.training");
        if (ctx.settings().teacher().training().augment()) {
            k.settings(ctx, "kd.augment");
        }
        return k.data(ctx).build();
    }

    @Override
    public boolean complete(JobContext ctx) {
        return ctx.workspace().exists(ctx.workspace().model("teacher"));
    }

    @Override
    public Object run(JobContext ctx) {
        TeacherSettings t = ctx.settings().teacher();
        ctx.describe(name(), "read the data set");
        DatasetLoader.Splits data = ctx.data();
        NetworkSpec spec = new NetworkSpec(data.inputShape(), ctx.settings().dataset().numClasses(),
                t.architecture().layers());
        LOG.info("train-teacher: {} layers, training on {}", spec.layers().size() + 1, ctx.settings().dataset().train());
        var result = NetworkTraining.train(ctx, TrainingRequest.builder("teacher", spec, DistillationLosses.hardLabels(),
                        t.training())
                .rows(data.train().filter(functions.col("label").isNotNull()), data.test(),
                        ctx.settings().dataset().toString())
                .build());
        LOG.info("train-teacher: saved {}", ctx.workspace().model("teacher"));
        return new Facts(result.network().numParams(), t.training().seed());
    }

    @Override
    public List<String> resumeState(Workspace w) {
        return List.of(w.checkpoint("teacher"));
    }

    @Override
    public List<Output> outputs(Workspace w) {
        return List.of(new Output("teacher", w.model("teacher")));
    }
}
