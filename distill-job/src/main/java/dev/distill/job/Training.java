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
        ctx.describe(who, "pack " + who + " training data into minibatches");
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, numClasses, spec.featureLength(), workers,
                t.batchSize(), t.seed(), withTeacher);
        MultiLayerConfiguration conf = spec.toConfiguration(loss, t, t.seed());
        Qat qat = Qat.of(spec);
        ParameterAveragingTrainer trainer = new ParameterAveragingTrainer(who, t, workers, ctx.workspace.checkpoint(who))
                .withHooks(TrainingHooks.compose(pruning, qat)).withInitialParams(initialParams);
        ParameterAveragingTrainer.Result result;
        try {
            ctx.describe(who, "train " + who + " (" + loss.name() + (qat == null ? "" : ", quantisation-aware") + ")");
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
