package dev.distill.job.stages;

import dev.distill.datasets.augment.Augmentation;
import dev.distill.job.JobContext;
import dev.distill.job.Json;
import dev.distill.job.report.Report;
import dev.distill.student.TrainingHooks;
import dev.distill.student.TrainingSettings;
import dev.distill.student.quant.Qat;
import dev.distill.student.spark.BatchPacker;
import dev.distill.student.spark.ClusterEvaluator;
import dev.distill.student.spark.PackedBatch;
import dev.distill.student.spark.ParameterAveragingTrainer;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.util.ModelSerializer;

import java.util.List;

/**
 * Trains one network (teacher, student or baseline) with the parameter-averaging trainer, scoring it on the
 * test split after every epoch (a quantisation-aware network fake-quantised, as it will be deployed), and
 * saves {@code <who>/model.zip} and {@code <who>/history.json} atomically; each epoch also goes to
 * {@code report/metrics.jsonl} ({@link MetricsLog}).
 */
public final class NetworkTraining {
    private NetworkTraining() {
    }

    /**
     * {@code <who>/history.json}: the network trained, how, and every epoch of this training (a training
     * resumed after a stop keeps the epochs trained before it).
     */
    public record History(String name, long parameters, String loss, int workers, int resumedAfterEpoch,
                          List<Report.Epoch> epochs) {
    }

    public static ParameterAveragingTrainer.Result train(JobContext ctx, TrainingRequest r) {
        int numClasses = r.spec().numClasses();
        TrainingSettings t = r.settings();
        int workers = ctx.workers(t);
        String stage = "teacher".equals(r.who()) ? "train-teacher" : "train-student";
        ctx.describe(stage, "pack " + r.who() + " training data into minibatches");
        JavaRDD<PackedBatch> batches = BatchPacker.pack(r.train(), numClasses, r.spec().featureLength(), workers,
                t.batchSize(), t.seed(), r.softTargets());
        MultiLayerConfiguration conf = r.spec().toConfiguration(r.loss(), t, t.seed());
        Qat qat = Qat.of(r.spec());
        MetricsLog metrics = new MetricsLog(ctx.workspace(), r.who(), t.epochs());
        ParameterAveragingTrainer trainer = new ParameterAveragingTrainer(r.who(), t, workers,
                ctx.workspace().checkpoint(r.who()))
                .withHooks(TrainingHooks.compose(r.hooks(), qat)).withInitialParams(r.initialParams())
                .withAugmentation(t.augment() ? ctx.settings().augmentation() : Augmentation.NONE, r.spec().inputShape())
                .onEpoch(metrics::add).scoredOn(r.scoredOn());
        ParameterAveragingTrainer.Result result;
        try {
            ctx.describe(stage, "train " + r.who() + " (" + r.loss().name() + (qat == null ? "" : ", quantisation-aware")
                    + (t.augment() ? ", augmented: " + ctx.settings().augmentation().describe() : "") + ")");
            result = trainer.train(ctx.sc(), batches, conf, r.dataKey(), (epoch, net) -> ClusterEvaluator.evaluate(
                    r.test(), qat == null ? net : qat.fakeQuantised(net), numClasses).accuracy());
        } finally {
            batches.unpersist(false);
        }
        ctx.workspace().writeAtomically(ctx.workspace().model(r.who()),
                out -> ModelSerializer.writeModel(result.network(), out, false));
        String path = ctx.workspace().path(r.who(), "history.json");
        if (result.history().isEmpty() && ctx.workspace().exists(path)) {
            return result;   // resumed after the last epoch: the history of that training stands
        }
        // Every epoch of this training, those before a resume included (the metrics file keeps them).
        List<Report.Epoch> epochs = metrics.epochs();
        ctx.workspace().writeString(path, Json.write(new History(r.who(), result.network().numParams(),
                r.loss().name(), workers, result.resumedFromEpoch(), epochs)));
        return result;
    }
}
