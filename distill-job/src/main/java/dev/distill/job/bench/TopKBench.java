package dev.distill.job.bench;

import dev.distill.job.JobContext;
import dev.distill.job.Json;
import dev.distill.job.report.Report;
import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.Rows;
import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.spark.DatasetLoader;
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
 * Top-k soft labels on a synthetic problem of many classes: the size of the logit columns on disk and the
 * accuracy of a student trained on them, against full logits.
 */
final class TopKBench {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    private TopKBench() {
    }

    /** What the benchmark measured. */
    record Result(int classes, int k, long trainRows, long bytesFull, long bytesTopK, double sizeRatio,
                  double accuracyFull, double accuracyTopK) {
    }

    static final int TOPK_CLASSES = 1000;
    static final int TOPK_K = 10;
    /**
     * Standard deviation of the class centres (the noise around them is 1): 1.0 makes the Bayes teacher's
     * distributions broad enough that the top 10 do not hold all of their mass (students reach about 90%);
     * at 0.7 they reach about 59% (top-10 then costs about a point), at 1.6 about 99.8%.
     */
    static final double TOPK_SPREAD = 1.0;

    /**
     * Top-k soft labels on a synthetic problem of {@value #TOPK_CLASSES} Gaussian classes in 32 dimensions,
     * labelled by the Bayes-optimal teacher (logits −‖x − μ_c‖² / 2): the size of the logit columns stored in
     * full and as the top {@value #TOPK_K}, and a student trained on each (soft term only, at the job's
     * temperature) scored on held-out rows.
     */
    static Result run(JobContext ctx, int cores) {
        int dims = 32;
        int classes = TOPK_CLASSES;
        java.util.Random r = new java.util.Random(11);
        float[][] mu = new float[classes][dims];
        for (float[] m : mu) {
            for (int d = 0; d < dims; d++) {
                m[d] = (float) (r.nextGaussian() * TOPK_SPREAD);
            }
        }
        SoftLabelMetadata md = new SoftLabelMetadata(SoftLabelMetadata.SCHEMA_VERSION, "bayes", "synthetic", classes,
                new int[] {dims}, "none", "synthetic", Instant.now().toString());
        List<Synthetic> train = synthetic(mu, 40_000, r);
        List<Synthetic> test = synthetic(mu, 5_000, r);
        Dataset<org.apache.spark.sql.Row> examples = ctx.spark().createDataFrame(train.stream()
                .map(e -> org.apache.spark.sql.RowFactory.create(e.id(), e.x(), e.label())).toList(), ExampleSchema.SCHEMA);
        long[] bytes = new long[2];
        double[] accuracy = new double[2];
        for (int variant = 0; variant < 2; variant++) {
            SoftLabelMetadata v = variant == 0 ? md : md.withTopK(TOPK_K);
            String dir = ctx.workspace().path("bench", variant == 0 ? "topk-full" : "topk-" + TOPK_K);
            String tmp = dev.distill.datasets.softlabels.SoftLabelStore.createTemp(ctx.workspace().hadoop(), dir);
            try {
                dev.distill.datasets.softlabels.SoftLabelStore.writePart(ctx.workspace().hadoop(), tmp, 0, 0, v,
                        train.stream().map(Synthetic::softLabel).iterator());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            dev.distill.datasets.softlabels.SoftLabelStore.commit(ctx.workspace().hadoop(), tmp, dir, "{}");
            bytes[variant] = dev.distill.datasets.softlabels.SoftLabelStore.columnBytes(ctx.workspace().hadoop(),
                    dir + "/part-00000.parquet", "teacher_logits", "topk_", "logsumexp");
            var rows = dev.distill.datasets.spark.SoftLabelReader.read(ctx.spark(), dir, v, examples).repartition(cores);
            NetworkSpec spec = new NetworkSpec(new int[] {dims}, classes,
                    List.of(dev.distill.student.LayerSpec.dense(128)));
            TrainingSettings t = new TrainingSettings(6, 64, cores, 64, "adam", 0.002, 0.9, "constant", 0.5, 1, 0, 5);
            // The soft term alone, at the job's temperature when it distils with Hinton's loss.
            double temperature = ctx.settings().student().loss() instanceof HintonLoss h ? h.temperature() : 4;
            HintonLoss loss = new HintonLoss(temperature, 1.0);
            JavaRDD<PackedBatch> batches = BatchPacker.pack(rows, classes, dims, cores, 64, 5, true);
            ctx.describe("bench", "train a student on " + (variant == 0 ? "full" : "top-" + TOPK_K) + " soft labels");
            MultiLayerNetwork net = new ParameterAveragingTrainer("bench-topk", t, cores, null)
                    .train(ctx.sc(), batches, spec.toConfiguration(loss, t, 5), "topk" + variant, null).network();
            batches.unpersist();
            float[][] x = test.stream().map(Synthetic::x).toArray(float[][]::new);
            float[] out = dev.distill.student.FlatArrays.of(net.output(Nd4j.create(x), false));
            int correct = 0;
            for (int i = 0; i < x.length; i++) {
                correct += dev.distill.student.Evaluation.argmax(java.util.Arrays.copyOfRange(out, i * classes,
                        (i + 1) * classes)) == test.get(i).label() ? 1 : 0;
            }
            accuracy[variant] = (double) correct / x.length;
            LOG.info(String.format("bench: %s soft labels: %,d bytes of logit columns, student accuracy %.2f%%",
                    variant == 0 ? "full" : "top-" + TOPK_K, bytes[variant], 100 * accuracy[variant]));
        }
        return new Result(classes, TOPK_K, train.size(), bytes[0], bytes[1], (double) bytes[0] / bytes[1], accuracy[0],
                accuracy[1]);
    }

    /** A synthetic example with its Bayes teacher's logits. */
    private record Synthetic(long id, float[] x, int label, float[] logits) {
        dev.distill.datasets.softlabels.SoftLabelRecord softLabel() {
            return new dev.distill.datasets.softlabels.SoftLabelRecord(id, label, logits);
        }
    }

    private static List<Synthetic> synthetic(float[][] mu, int n, java.util.Random r) {
        List<Synthetic> rows = new ArrayList<>();
        int dims = mu[0].length;
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(mu.length);
            float[] x = new float[dims];
            for (int d = 0; d < dims; d++) {
                x[d] = (float) (mu[c][d] + r.nextGaussian());
            }
            float[] z = new float[mu.length];
            for (int k = 0; k < mu.length; k++) {
                double dist = 0;
                for (int d = 0; d < dims; d++) {
                    double e = x[d] - mu[k][d];
                    dist += e * e;
                }
                z[k] = (float) (-dist / 2);
            }
            rows.add(new Synthetic(i, x, c, z));
        }
        return rows;
    }
}
