package dev.distill.job;

import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.datasets.spark.SoftLabelReader;
import dev.distill.student.FlatArrays;
import dev.distill.student.KdLoss;
import dev.distill.student.NetworkSpec;
import dev.distill.student.StudentSettings;
import dev.distill.student.compress.LowRank;
import dev.distill.student.compress.Pruning;
import dev.distill.teacher.Teacher;
import dev.distill.teacher.TeacherSource;
import dev.distill.teacher.TeacherSettings;
import dev.distill.teacher.spark.LabellingJob;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** The pipeline's stages; each reads the previous stage's outputs from the output folder. */
final class Stages {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    private Stages() {
    }

    /** train-teacher: trains the teacher architecture on hard labels and saves teacher/model.zip. */
    static void trainTeacher(JobContext ctx) {
        TeacherSettings t = ctx.settings.teacher();
        if (!t.trainedHere()) {
            throw new IllegalArgumentException("kd.teacher.source = load: there is no teacher to train; the teacher is "
                    + "read from kd.teacher.model (" + t.model() + ")");
        }
        ctx.describe("train-teacher", "read the data set");
        Map<String, String> key = StageKeys.teacher(ctx);
        ctx.workspace.delete(ctx.workspace.path("teacher", "provenance.json"));   // written again when done
        DatasetLoader.Splits data = ctx.data();
        int numClasses = ctx.settings.dataset().numClasses();
        NetworkSpec spec = new NetworkSpec(data.inputShape(), numClasses, t.architecture().layers());
        LOG.info("train-teacher: {} layers, training on {}", spec.layers().size() + 1, ctx.settings.dataset().train());
        Dataset<Row> labelled = data.train().filter(functions.col("label").isNotNull());
        var result = Training.trainAndSave(ctx, "teacher", spec, new KdLoss(1, 0), t.training(), labelled, data.test(), false,
                ctx.settings.dataset().toString());
        Provenance.write(ctx, "teacher", Map.of("parameters", result.network().numParams(),
                "seed", t.training().seed(), StageKeys.KEY, key));
        LOG.info("train-teacher: saved {}", ctx.workspace.model("teacher"));
    }

    /** The teacher's model file: trained here, or kd.teacher.model. */
    static String teacherModel(JobContext ctx) {
        TeacherSettings t = ctx.settings.teacher();
        String path = t.trainedHere() ? ctx.workspace.model("teacher") : t.model();
        if (!ctx.workspace.exists(path)) {
            throw new IllegalArgumentException("teacher model not found: " + path
                    + (t.trainedHere() ? "; run `distill train-teacher <job.conf>` first" : "; check kd.teacher.model"));
        }
        return path;
    }

    /** label: runs the teacher over both splits and writes soft-labels/train and soft-labels/test. */
    static void label(JobContext ctx) {
        ctx.describe("label", "read the data set");
        String model = teacherModel(ctx);
        DatasetLoader.Splits data = ctx.data();
        int numClasses = ctx.settings.dataset().numClasses();
        TeacherSource source = ctx.settings.teacher().source(model, data.featureLength(), numClasses);
        Teacher teacher = source.open(ctx.workspace.hadoop(), 1);
        if (teacher.numClasses() != numClasses) {
            throw new IllegalArgumentException("teacher " + model + " has " + teacher.numClasses()
                    + " output classes but kd.dataset.num-classes = " + numClasses);
        }
        if (teacher instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // only opened to check it
            }
        }
        String sha = ctx.workspace.sha256(model);
        int batch = ctx.settings.teacher().labelBatchSize();
        ctx.workspace.delete(ctx.workspace.path("soft-labels", "provenance.json"));   // written again when done
        Map<String, Object> counts = new LinkedHashMap<>();
        for (String split : new String[] {"train", "test"}) {
            SoftLabelMetadata md = new SoftLabelMetadata(SoftLabelMetadata.SCHEMA_VERSION,
                    new org.apache.hadoop.fs.Path(model).getName(), sha, numClasses, data.inputShape(),
                    data.normalisation().describe(), ctx.dataKey(split), Instant.now().toString(),
                    ctx.settings.teacher().topK());
            ctx.describe("label", "label the " + split + " split with the teacher (" + md.teacherId() + ")");
            Dataset<Row> rows = "train".equals(split) ? data.train() : data.test();
            LabellingJob.Result r = LabellingJob.label(rows, source, sha, md, batch,
                    ctx.settings.teacher().compression(), ctx.workspace.softLabels(split), rows.count());
            counts.put(split + "_rows", r.rows());
            counts.put(split + "_rows_per_second", r.rows() / r.seconds());
        }
        counts.put("teacher_sha256", sha);
        counts.put(StageKeys.KEY, StageKeys.label(ctx, sha));
        counts.put("normalisation", data.normalisation().toMap());
        Provenance.write(ctx, "soft-labels", counts);
    }

    /** Checks soft labels against the job before training on them. */
    static SoftLabelStore.Info checkSoftLabels(JobContext ctx, String split) {
        String dir = ctx.workspace.softLabels(split);
        SoftLabelStore.Info info = SoftLabelStore.inspect(ctx.workspace.hadoop(), dir);
        int numClasses = ctx.settings.dataset().numClasses();
        if (info.metadata().numClasses() != numClasses) {
            throw new IllegalArgumentException("soft labels in " + dir + " have " + info.metadata().numClasses()
                    + " classes but the student has " + numClasses + " (kd.dataset.num-classes)");
        }
        int[] expected = ctx.settings.inputShape();
        int expectedLength = Arrays.stream(expected).reduce(1, (a, b) -> a * b);
        if (expectedLength > 0 && info.metadata().featureLength() != expectedLength) {
            throw new IllegalArgumentException("soft labels in " + dir + " have " + info.metadata().featureLength()
                    + " features per row (input shape " + Arrays.toString(info.metadata().inputShape())
                    + ") but the student's input takes " + expectedLength + " (" + Arrays.toString(expected) + ")");
        }
        if (!info.metadata().dataKey().equals(ctx.dataKey(split))) {
            throw new IllegalArgumentException("soft labels in " + dir + " were made from other data than the "
                    + split + " split of kd.dataset (its settings, paths or file sizes changed since `distill label`);"
                    + " rerun `distill label <job.conf>`");
        }
        return info;
    }

    /** Soft labels checked against the job, and their rows joined with the split's features. */
    record SoftLabelled(SoftLabelStore.Info info, Dataset<Row> rows) {
    }

    /** The soft labels of {@code split} ({@link #checkSoftLabels checked}) joined by id with the split's features. */
    static SoftLabelled softLabelled(JobContext ctx, String split) {
        SoftLabelStore.Info info = checkSoftLabels(ctx, split);
        DatasetLoader.Splits data = ctx.data();
        return new SoftLabelled(info, SoftLabelReader.read(ctx.spark, ctx.workspace.softLabels(split), info.metadata(),
                "train".equals(split) ? data.train() : data.test()));
    }

    /** train-student: the distilled student on soft labels, and its hard-label baseline. */
    static void trainStudent(JobContext ctx) {
        ctx.describe("train-student", "read the soft labels and the data set");
        Map<String, String> key = StageKeys.student(ctx);
        ctx.workspace.delete(ctx.workspace.path("student", "provenance.json"));   // written again when done
        SoftLabelled soft = softLabelled(ctx, "train");
        SoftLabelStore.Info info = soft.info();
        Dataset<Row> train = soft.rows();
        Dataset<Row> test = softLabelled(ctx, "test").rows().cache();
        StudentSettings s = ctx.settings.student();
        int numClasses = ctx.settings.dataset().numClasses();
        NetworkSpec spec = new NetworkSpec(info.metadata().inputShape(), numClasses, s.architecture().layers())
                .withQuantisation(s.architecture().quantisation());
        float[] initial = null;
        if (!s.initFrom().isEmpty()) {
            MultiLayerNetwork source = ctx.loadNetwork(s.initFrom());
            spec = LowRank.resolve(spec, source, s.initFrom());
            MultiLayerNetwork fresh = spec.newNetwork(s.loss(), s.training(), s.training().seed());
            for (String line : LowRank.initialise(fresh, spec, source, s.initFrom())) {
                LOG.info("train-student: initialise {}", line);
            }
            initial = FlatArrays.of(fresh.params());
        }
        Pruning pruning = Pruning.of(spec, s.pruning());
        if (pruning != null) {
            LOG.info("train-student: pruning to {} sparsity ({} steps of {} from step {}, Zhu & Gupta)",
                    s.pruning().target(), s.pruning().steps(), s.pruning().frequency(), s.pruning().startStep());
        }
        LOG.info("train-student: {} soft-labelled rows, {}{}", info.rows(), s.loss().name(), spec.quantised()
                ? ", quantisation-aware (" + spec.quantisation().weightBits() + "-bit weights, from step "
                + spec.quantisation().startStep() + ")" : "");
        var student = Training.trainAndSave(ctx, "student", spec, s.loss(), s.training(), train, test, true,
                info.metadata().teacherSha256() + "/" + info.rows(), pruning, initial);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("parameters", student.network().numParams());
        extra.put("temperature", s.temperature());
        extra.put("alpha", s.alpha());
        extra.put("seed", s.training().seed());
        extra.put("soft_label_rows", info.rows());
        Dataset<Row> labelled = train.filter(functions.col("label").isNotNull());
        long labelledRows = labelled.count();
        extra.put("labelled_rows", labelledRows);
        extra.put("teacher_sha256", info.metadata().teacherSha256());
        extra.put("baseline", s.baseline() && labelledRows > 0);
        extra.put(StageKeys.KEY, key);
        if (s.baseline() && labelledRows == 0) {
            // An unlabeled transfer set: the student learned from the teacher alone; there is nothing to
            // train a hard-label baseline on. A baseline from an earlier run would be measured as this one's.
            LOG.info("train-student: the transfer set has no hard labels, so there is no hard-label baseline"
                    + " (kd.student.baseline = false says the same without this note)");
            ctx.workspace.delete(ctx.workspace.model("baseline"));
        } else if (s.baseline()) {
            var baseline = Training.trainAndSave(ctx, "baseline", spec, new KdLoss(1, 0), s.training(), labelled, test, false,
                    info.metadata().teacherSha256() + "/" + info.rows(), pruning, initial);
            Provenance.write(ctx, "baseline", Map.of("parameters", baseline.network().numParams(),
                    "seed", s.training().seed()));
        }
        // Written last: a student provenance with its stage key marks the whole stage (baseline included) done.
        Provenance.write(ctx, "student", extra);
        test.unpersist();
    }
}
