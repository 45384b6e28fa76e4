package dev.distill.job.stages;

import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.job.JobContext;
import dev.distill.job.Workspace;
import dev.distill.teacher.Teacher;
import dev.distill.teacher.TeacherSource;
import dev.distill.teacher.spark.LabellingJob;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * {@code label}: runs the teacher inside the executors over both splits and writes
 * {@code soft-labels/train/} and {@code soft-labels/test/} (the Parquet contract: ids, labels and logits,
 * with the teacher's hash, the input shape, the normalisation and the data key in the footer).
 */
final class LabelStage implements Stage {
    /**
     * The facts of {@code soft-labels/provenance.json}; for an ensemble, {@code ensemble} names each teacher
     * with its SHA-256 ("" for one teacher).
     */
    record Facts(long trainRows, double trainRowsPerSecond, long testRows, double testRowsPerSecond,
                 String teacherId, String teacherSha256, String ensemble, Map<String, Object> normalisation) {
    }

    @Override
    public String name() {
        return "label";
    }

    @Override
    public String folder() {
        return "soft-labels";
    }

    @Override
    public String makes() {
        return "soft-labels/";
    }

    @Override
    public StageKey key(JobContext ctx) {
        StageKey.Builder k = StageKey.builder().part("teacher model", ctx.teacherSha256())
                .settings(ctx, "kd.teacher.format", "kd.teacher.onnx", "kd.teacher.ensemble")
                .settings(ctx, "kd.soft-labels.store", "kd.soft-labels.k", "kd.soft-labels.views");
        if (ctx.settings().teacher().views() > 1) {
            k.settings(ctx, "kd.augment");
        }
        return k.data(ctx).build();
    }

    @Override
    public boolean complete(JobContext ctx) {
        Workspace w = ctx.workspace();
        return w.exists(w.path("soft-labels", "train", "_SUCCESS")) && w.exists(w.path("soft-labels", "test", "_SUCCESS"));
    }

    @Override
    public Object run(JobContext ctx) {
        ctx.describe(name(), "read the data set");
        DatasetLoader.Splits data = ctx.data();
        int numClasses = ctx.settings().dataset().numClasses();
        TeacherSource source = ctx.teacherSource();
        checkOutputs(ctx, source, numClasses);
        String sha = ctx.teacherSha256();
        String teacherId = ctx.teacherId();
        String ensemble = ctx.ensembleMembers();
        long[] rows = new long[2];
        double[] rates = new double[2];
        String[] splits = {"train", "test"};
        for (int i = 0; i < 2; i++) {
            String split = splits[i];
            SoftLabelMetadata md = new SoftLabelMetadata(SoftLabelMetadata.SCHEMA_VERSION, teacherId, sha, numClasses,
                    data.inputShape(), data.normalisation().describe(), ctx.dataKey(split), Instant.now().toString(),
                    ctx.settings().teacher().topK()).withEnsemble(ensemble);
            LabellingJob.Views views = viewsOf(ctx, split, data.inputShape());
            md = md.withViews(views.count(), views.augmentation().toString());
            ctx.describe(name(), "label the " + split + " split with the teacher (" + md.teacherId() + ")"
                    + (views.count() > 1 ? ", " + views.count() + " views per example (" + views.augmentation().describe()
                    + ")" : ""));
            Dataset<Row> split0 = "train".equals(split) ? data.train() : data.test();
            LabellingJob.Result r = LabellingJob.label(split0, source, sha, md, ctx.settings().teacher().labelBatchSize(),
                    ctx.settings().teacher().compression(), ctx.workspace().softLabels(split), split0.count(), views);
            rows[i] = r.rows();
            rates[i] = r.rows() / r.seconds();
        }
        return new Facts(rows[0], rates[0], rows[1], rates[1], teacherId, sha, ensemble, data.normalisation().toMap());
    }

    /** The views labelled per example of {@code split}: kd.soft-labels.views for train, the image only for test. */
    static LabellingJob.Views viewsOf(JobContext ctx, String split, int[] shape) {
        int n = ctx.settings().teacher().views();
        if (n <= 1 || !"train".equals(split)) {
            return LabellingJob.Views.NONE;
        }
        return new LabellingJob.Views(n, ctx.settings().augmentation(), shape, ctx.settings().dataset().splitSeed());
    }

    /**
     * Opens the teacher once on the driver to check that its outputs are the data set's classes (an ensemble
     * checks that its members agree when it opens).
     */
    private static void checkOutputs(JobContext ctx, TeacherSource source, int numClasses) {
        Teacher teacher = source.open(ctx.workspace().hadoop(), 1);
        try {
            if (teacher.numClasses() != numClasses) {
                throw new IllegalArgumentException("teacher " + source.model() + " has " + teacher.numClasses()
                        + " output classes but kd.dataset.num-classes = " + numClasses);
            }
        } finally {
            if (teacher instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // only opened to check it
                }
            }
        }
    }

    @Override
    public List<Output> outputs(Workspace w) {
        return List.of(new Output("soft labels", w.softLabels("train")));
    }

    /** The folders' manifests: each lists its parts and their rows and ids, which readers check in turn. */
    @Override
    public List<String> files(Workspace w) {
        return List.of(w.path("soft-labels", "train", "_SUCCESS"), w.path("soft-labels", "test", "_SUCCESS"));
    }
}
