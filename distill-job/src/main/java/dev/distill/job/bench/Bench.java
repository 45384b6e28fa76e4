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
 * {@code distill bench <job.conf>}: throughput ratios measured in one run on the same machine, so that a
 * shared, noisy machine cancels out. After a warm-up pass (JIT, caches), each measurement is taken
 * {@value #REPEATS} times, each time right after its reference; the ratio reported is the median of these
 * paired ratios (a slow or fast spell of the host affects both halves of a pair), beside the median rates.
 * <ol>
 *   <li>labelling through Spark (row conversion, teacher, Parquet) vs the teacher called directly on the same
 *       model and batches, both with every core, over enough passes of the split to last about
 *       {@value #MIN_LABELLING_SECONDS} s (ND4J {@code output()}; ONNX Runtime in one multi-threaded session
 *       and, a second row, one single-threaded session per core);</li>
 *   <li>the distributed trainer on the job's master vs plain single-process DL4J {@code fit()} on the same
 *       minibatches with every core (the trainer's overhead);</li>
 *   <li>2 workers vs 1 worker, each held to one BLAS thread (the trainer's scaling, not BLAS threading);</li>
 *   <li>convolutional training: the trainer vs PyTorch on the same network, threads and batch
 *       ({@link ConvTrainingBench}).</li>
 * </ol>
 * Writes {@code report/bench.json} and prints the table with the accuracy/size summary of the last run.
 */
public final class Bench {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");
    static final int REPEATS = 5;
    /** Training measurements take longer; three pairs. */
    static final int TRAINING_REPEATS = 3;
    /** Epochs per training measurement: long enough that one descheduling does not decide the result. */
    static final int EPOCHS = 3;

    private Bench() {
    }

    /** {@code report/bench.json}. */
    record Result(String createdAt, String sparkMaster, int cores, List<Row> ratios, TopKBench.Result topK,
                  Map<String, Object> versions) {
    }

    /** One ratio; {@code skipped} says why a row could not be measured here (its numbers are then 0). */
    record Row(String what, double measured, double reference, String unit, double target, double ratio,
               String skipped) {
        /** Medians of the paired measurements, and the median of their ratios. */
        static Row of(String what, List<Double> measured, List<Double> reference, String unit, double target) {
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < measured.size(); i++) {
                ratios.add(measured.get(i) / reference.get(i));
            }
            return new Row(what, median(measured), median(reference), unit, target, median(ratios), null);
        }

        static Row skipped(String what, String why) {
            return new Row(what, 0, 0, "", 0, 0, why);
        }
    }

    static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        java.util.Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    public static List<Row> run(JobContext ctx, PrintStream out) {
        DatasetLoader.Splits data = ctx.data();
        long rows = data.train().count();
        int cores = ctx.spark().sparkContext().defaultParallelism();
        LOG.info("bench: {} training rows, {} cores (default parallelism)", rows, cores);
        List<Row> table = new ArrayList<>();
        table.addAll(LabellingBench.run(ctx, data, rows, cores));
        table.addAll(TrainingBench.run(ctx, data, cores));
        table.addAll(ConvTrainingBench.run(ctx, data, cores));
        TopKBench.Result topK = TopKBench.run(ctx, cores);
        Result result = new Result(Instant.now().toString(), ctx.spark().sparkContext().master(), cores, table, topK,
                JobContext.versions());
        ctx.workspace().writeString(ctx.workspace().path("report", "bench.json"), Json.write(result));
        out.println();
        out.print(table(table));
        out.printf("%ntop-k soft labels on a synthetic problem of %,d classes (k = %d, %,d training rows):%n"
                        + "  logit columns on disk: %,d bytes full, %,d bytes top-k (%.1fx smaller; target >= 20x)%n"
                        + "  student test accuracy: %.2f%% on full logits, %.2f%% on top-k (%+.2f points; target within 1)%n",
                topK.classes(), topK.k(), topK.trainRows(), topK.bytesFull(), topK.bytesTopK(), topK.sizeRatio(),
                100 * topK.accuracyFull(), 100 * topK.accuracyTopK(), 100 * (topK.accuracyTopK() - topK.accuracyFull()));
        String report = ctx.workspace().path("report", "report.json");
        if (ctx.workspace().exists(report)) {
            out.println();
            out.println("accuracy and size of the last `run` (" + report + "):");
            out.print(Json.read(ctx.workspace().readString(report), Report.class).table());
        } else {
            out.println("\n(no " + report + " yet: `distill run` the job for the accuracy and size summary)");
        }
        out.println("\nwritten to " + ctx.workspace().path("report", "bench.json"));
        return table;
    }

    static String table(List<Row> rows) {
        StringBuilder b = new StringBuilder(String.format("%-52s %16s %16s %8s %8s%n", "benchmark", "measured",
                "reference", "ratio", "target"));
        for (Row r : rows) {
            if (r.skipped() != null) {
                b.append(String.format("%-52s skipped: %s%n", r.what(), r.skipped()));
                continue;
            }
            b.append(String.format("%-52s %,11.0f %-4s %,11.0f %-4s %7.2fx %7s%n", r.what(), r.measured(), r.unit(),
                    r.reference(), r.unit(), r.ratio(), String.format(">=%.2f", r.target())));
        }
        return b.toString();
    }
}
