package dev.distill.job;

import dev.distill.student.KdLoss;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import dev.distill.student.quant.Qat;
import dev.distill.student.spark.BatchPacker;
import dev.distill.student.spark.ClusterEvaluator;
import dev.distill.student.spark.EpochStats;
import dev.distill.student.spark.PackedBatch;
import dev.distill.student.spark.ParameterAveragingTrainer;
import dev.distill.student.spark.TrainingHooks;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.util.ModelSerializer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains one network (teacher, student or baseline) with the parameter-averaging trainer, evaluating on the
 * test split after every epoch, and saves {@code <who>/model.zip} and {@code <who>/history.json} atomically.
 */
final class Training {
    private Training() {
    }

    /**
     * {@code report/metrics.jsonl}: one JSON object per line per trained epoch, {@code model} naming the
     * network. Training a network replaces that network's earlier lines and keeps the others'; the file is
     * rewritten atomically after every epoch, so a reader never sees half a line.
     */
    static final class Metrics {
        static final String FILE = "metrics.jsonl";
        private final JobContext ctx;
        private final String who;
        private final int epochs;
        private final String path;
        private final List<String> lines = new ArrayList<>();

        Metrics(JobContext ctx, String who, int epochs) {
            this.ctx = ctx;
            this.who = who;
            this.epochs = epochs;
            this.path = ctx.workspace.path("report", FILE);
            if (ctx.workspace.exists(path)) {
                for (String line : ctx.workspace.readString(path).split("\n")) {
                    if (!line.isBlank() && !who.equals(Json.read(line).get("model"))) {
                        lines.add(line);
                    }
                }
            }
        }

        void add(EpochStats e) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("time", java.time.Instant.now().toString());
            m.put("model", who);
            m.put("epoch", e.epoch());
            m.put("epochs", epochs);
            m.put("loss", e.meanLoss());
            m.put("test_accuracy", Double.isNaN(e.testAccuracy()) ? null : e.testAccuracy());
            m.put("examples", e.examples());
            m.put("rounds", e.rounds());
            m.put("seconds", e.seconds());
            m.put("examples_per_second", e.examples() / e.seconds());
            lines.add(Json.line(m));
            ctx.workspace.writeString(path, String.join("\n", lines) + "\n");
        }
    }

    static ParameterAveragingTrainer.Result trainAndSave(JobContext ctx, String who, NetworkSpec spec, KdLoss loss,
                                                         TrainingSettings t, Dataset<Row> train, Dataset<Row> test,
                                                         boolean withTeacher, String dataKey) {
        return trainAndSave(ctx, who, spec, loss, t, train, test, withTeacher, dataKey, null, null);
    }

    /**
     * As above, with {@code pruning} hooks (or null) around quantisation-aware training when {@code spec} asks
     * for it, and {@code initialParams} (or null) to start from.
     */
    static ParameterAveragingTrainer.Result trainAndSave(JobContext ctx, String who, NetworkSpec spec, KdLoss loss,
                                                         TrainingSettings t, Dataset<Row> train, Dataset<Row> test,
                                                         boolean withTeacher, String dataKey, TrainingHooks pruning,
                                                         float[] initialParams) {
        int numClasses = spec.numClasses();
        int workers = ctx.workers(t);
        String stage = "teacher".equals(who) ? "train-teacher" : "train-student";
        ctx.describe(stage, "pack " + who + " training data into minibatches");
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, numClasses, spec.featureLength(), workers,
                t.batchSize(), t.seed(), withTeacher);
        MultiLayerConfiguration conf = spec.toConfiguration(loss, t, t.seed());
        Qat qat = Qat.of(spec);
        Metrics metrics = new Metrics(ctx, who, t.epochs());
        ParameterAveragingTrainer trainer = new ParameterAveragingTrainer(who, t, workers, ctx.workspace.checkpoint(who))
                .withHooks(TrainingHooks.compose(pruning, qat)).withInitialParams(initialParams)
                .onEpoch(metrics::add);
        ParameterAveragingTrainer.Result result;
        try {
            ctx.describe(stage, "train " + who + " (" + loss.name() + (qat == null ? "" : ", quantisation-aware") + ")");
            // A quantisation-aware network is scored as it will be deployed: fake-quantised.
            result = trainer.train(ctx.sc(), batches, conf, dataKey, (epoch, net) -> ClusterEvaluator.evaluate(test,
                    qat == null ? net : qat.fakeQuantised(net), numClasses).accuracy());
        } finally {
            batches.unpersist(false);
        }
        ctx.workspace.writeAtomically(ctx.workspace.model(who),
                out -> ModelSerializer.writeModel(result.network(), out, false));
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (EpochStats e : result.history()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("loss", e.meanLoss());
            m.put("test_accuracy", e.testAccuracy());
            m.put("examples", e.examples());
            m.put("rounds", e.rounds());
            m.put("seconds", e.seconds());
            epochs.add(m);
        }
        Map<String, Object> history = new LinkedHashMap<>();
        history.put("name", who);
        history.put("parameters", result.network().numParams());
        history.put("loss", loss.name());
        history.put("workers", workers);
        history.put("resumed_after_epoch", result.resumedFromEpoch());
        history.put("epochs", epochs);
        String path = ctx.workspace.path(who, "history.json");
        if (result.history().isEmpty() && ctx.workspace.exists(path)) {
            return result;
        }
        ctx.workspace.writeString(path, Json.write(history));
        return result;
    }
}
