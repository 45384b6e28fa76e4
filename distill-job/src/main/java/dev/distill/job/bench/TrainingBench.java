package dev.distill.job.bench;

import dev.distill.job.JobContext;
import dev.distill.job.Json;
import dev.distill.job.report.Report;
import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.Rows;
import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.student.loss.DistillationLoss;
import dev.distill.student.loss.DistillationLosses;
import dev.distill.student.loss.HintonLoss;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import dev.distill.student.spark.BatchPacker;
import dev.distill.student.spark.EpochStats;
import dev.distill.student.spark.NetworkPool;
import dev.distill.student.spark.PackedBatch;
import dev.distill.student.spark.ParameterAveragingTrainer;
import dev.distill.teacher.Teacher;
import dev.distill.teacher.TeacherSource;
import dev.distill.teacher.spark.LabellingJob;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The distributed trainer on the job's master against plain single-process DL4J {@code fit()} on the same
 * minibatches with every core (the trainer's overhead), and 2 workers against 1, each held to one BLAS
 * thread (the trainer's scaling, not BLAS threading).
 */
final class TrainingBench {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    private TrainingBench() {
    }

    /** The trainer vs plain fit() on all cores, and 2 one-core workers vs 1. */
    static List<Bench.Row> run(JobContext ctx, DatasetLoader.Splits data, int cores) {
        int numClasses = ctx.settings().dataset().numClasses();
        TrainingSettings t = ctx.settings().student().training().withEpochs(Bench.EPOCHS);
        DistillationLoss loss = ctx.settings().student().loss();
        NetworkSpec spec = new NetworkSpec(data.inputShape(), numClasses, ctx.settings().student().architecture().layers());
        MultiLayerConfiguration conf = spec.toConfiguration(loss, t, t.seed());
        int f = data.featureLength();
        JavaRDD<PackedBatch> one = BatchPacker.pack(data.train(), numClasses, f, 1, t.batchSize(), t.seed(), false);
        JavaRDD<PackedBatch> two = BatchPacker.pack(data.train(), numClasses, f, 2, t.batchSize(), t.seed(), false);
        List<PackedBatch> local = one.collect();
        two.count();
        List<Double> plain = new ArrayList<>();
        List<Double> trainerTwo = new ArrayList<>();
        List<Double> trainerOne = new ArrayList<>();
        for (int rep = -1; rep < Bench.TRAINING_REPEATS; rep++) {
            double p2 = plainFit(conf, local, f, cores);
            double t2 = trainerEpoch(ctx, t, 2, two, conf);
            double p1 = plainFit(conf, local, f, 1);
            double t1 = trainerEpoch(ctx, t, 1, one, conf);
            if (rep < 0) {
                continue; // warm-up
            }
            plain.add(p2);
            trainerTwo.add(t2);
            trainerOne.add(t1);
            LOG.info(String.format("bench: training %.0f examples/s (trainer, 2 workers), %.0f (plain fit, %d threads),"
                    + " %.0f (trainer, 1 worker), %.0f (plain fit, 1 thread)", t2, p2, cores, t1, p1));
        }
        one.unpersist();
        two.unpersist();
        return List.of(
                Bench.Row.of("training: trainer, 2 workers vs plain fit(), " + cores + " threads", trainerTwo, plain, "ex/s", 0.85),
                Bench.Row.of("scaling: trainer, 2 one-core workers vs 1", trainerTwo, trainerOne, "ex/s", 1.6));
    }

    private static double plainFit(MultiLayerConfiguration conf, List<PackedBatch> batches, int f, int threads) {
        NetworkPool.limitThreads(threads);
        MultiLayerNetwork net = NetworkPool.newNetwork(conf.toJson());
        long n = 0;
        long t0 = System.nanoTime();
        INDArray x = null;
        INDArray y = null;
        for (int epoch = 0; epoch < Bench.EPOCHS; epoch++) {
            for (PackedBatch b : batches) {
                // The same reuse of input arrays as the trainer: the best plain loop, not a straw man.
                if (x == null || x.size(0) != b.rows()) {
                    x = Nd4j.create(DataType.FLOAT, b.rows(), f);
                    y = Nd4j.create(DataType.FLOAT, b.rows(), b.labels().length / b.rows());
                }
                x.data().setData(b.features());
                y.data().setData(b.labels());
                net.fit(new DataSet(x, y));
                n += b.rows();
            }
        }
        return n / ((System.nanoTime() - t0) / 1e9);
    }

    private static double trainerEpoch(JobContext ctx, TrainingSettings t, int workers, JavaRDD<PackedBatch> batches,
                                       MultiLayerConfiguration conf) {
        return trainerRate(ctx, "bench-" + workers + "w", "trainer throughput with " + workers + " workers", t, workers,
                batches, conf);
    }

    /** Examples per second of the distributed trainer over {@code t.epochs()} epochs of {@code batches}. */
    static double trainerRate(JobContext ctx, String name, String description, TrainingSettings t, int workers,
                              JavaRDD<PackedBatch> batches, MultiLayerConfiguration conf) {
        ctx.describe("bench", description);
        var result = new ParameterAveragingTrainer(name, t, workers, null).train(ctx.sc(), batches, conf, "bench", null);
        long examples = 0;
        double seconds = 0;
        for (EpochStats e : result.history()) {
            examples += e.examples();
            seconds += e.seconds();
        }
        return examples / seconds;
    }
}
