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
 * Labelling through Spark (row conversion, teacher, Parquet) against the same teacher called directly on the
 * same model and batches, both with every core, over enough copies of the split to last about
 * {@value #MIN_LABELLING_SECONDS} s of teacher time.
 */
final class LabellingBench {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    private LabellingBench() {
    }

    /**
     * Labelling through Spark vs the same teacher called directly over the same batches on the driver (ND4J
     * {@code output()} for a DL4J teacher; for an ONNX one, ONNX Runtime's {@code run} in one session with every
     * core's threads and, as a second row, in one single-threaded session per core).
     */
    static List<Bench.Row> run(JobContext ctx, DatasetLoader.Splits data, long rows, int cores) {
        int numClasses = ctx.settings().dataset().numClasses();
        String model = ctx.workspace().model("teacher");
        if (!ctx.settings().teacher().trainedHere()) {
            model = ctx.settings().teacher().model();
        } else if (!ctx.workspace().exists(model)) {
            // Throughput does not depend on the weights: an untrained teacher of the configured shape will do.
            model = ctx.workspace().path("bench", "teacher-untrained.zip");
            NetworkSpec spec = new NetworkSpec(data.inputShape(), numClasses, ctx.settings().teacher().architecture().layers());
            MultiLayerNetwork fresh = spec.newNetwork(DistillationLosses.hardLabels(), ctx.settings().teacher().training(), 1);
            ctx.workspace().writeAtomically(model, o -> ModelSerializer.writeModel(fresh, o, false));
        }
        int batch = ctx.settings().teacher().labelBatchSize();
        List<float[]> batches = data.train().javaRDD().mapPartitions(it -> {
            List<float[]> out = new ArrayList<>();
            List<float[]> cur = new ArrayList<>();
            while (it.hasNext()) {
                float[] f = Rows.floats(it.next().getList(1));
                cur.add(f);
                if (cur.size() == batch || !it.hasNext()) {
                    float[] packed = new float[cur.size() * f.length];
                    for (int r = 0; r < cur.size(); r++) {
                        System.arraycopy(cur.get(r), 0, packed, r * f.length, f.length);
                    }
                    out.add(packed);
                    cur.clear();
                }
            }
            return out.iterator();
        }).collect();
        TeacherSource source = ctx.settings().teacher().source(model, data.featureLength(), numClasses);
        Teacher direct = source.open(ctx.workspace().hadoop(), cores);
        // ONNX Runtime called directly in two ways that use every core: one session with a thread per core
        // (ONNX Runtime's usual set-up), and one single-threaded session per core on threads of their own (as
        // the executors run it, so that ratio is Spark's own cost). Which is faster depends on the model and
        // the batch; on the 2-vCPU development host the first measured either ~145k or ~250k rows/s from one
        // JVM start to the next, the second ~250k steadily.
        List<Teacher> perCore = new ArrayList<>();
        if (source.isOnnx() && cores > 1) {
            for (int c = 0; c < cores; c++) {
                perCore.add(source.open(ctx.workspace().hadoop(), 1));
            }
        }
        int f = data.featureLength();
        String sha = ctx.workspace().sha256(model);
        SoftLabelMetadata md = new SoftLabelMetadata(SoftLabelMetadata.SCHEMA_VERSION, "bench", sha, numClasses,
                data.inputShape(), data.normalisation().describe(), ctx.dataKey("train"), Instant.now().toString());
        String target = ctx.workspace().path("bench", "soft-labels");
        // A throughput measurement, not a latency one: Spark's fixed cost per job (about 50 ms to schedule the
        // tasks here, and the commit) would decide the ratio for a job of a few hundred milliseconds, which is
        // all that a cheap teacher needs for one pass over a small split. So both sides label the split as many
        // times as it takes the teacher ~MIN_LABELLING_SECONDS (in one Spark job, ids offset per copy).
        NetworkPool.limitThreads(cores);
        long w0 = System.nanoTime();
        directPasses(direct, batches, f, 1);
        int passes = (int) Math.max(1, Math.ceil(MIN_LABELLING_SECONDS / ((System.nanoTime() - w0) / 1e9)));
        Dataset<org.apache.spark.sql.Row> input = copies(data.train(), passes);
        LOG.info("bench: labelling measured over {} pass(es) of the {} training rows", passes, rows);
        List<Double> raws = new ArrayList<>();
        List<Double> perCoreRaws = new ArrayList<>();
        List<Double> sparks = new ArrayList<>();
        for (int rep = -1; rep < Bench.REPEATS; rep++) {
            NetworkPool.limitThreads(cores);
            long t0 = System.nanoTime();
            long n = directPasses(direct, batches, f, passes);
            double raw = n / ((System.nanoTime() - t0) / 1e9);
            double rawPerCore = 0;
            if (!perCore.isEmpty()) {
                t0 = System.nanoTime();
                n = inParallel(perCore, batches, f, passes);
                rawPerCore = n / ((System.nanoTime() - t0) / 1e9);
            }
            ctx.describe("bench", "labelling throughput through Spark");
            LabellingJob.Result res = LabellingJob.label(input, source, sha, md, batch,
                    ctx.settings().teacher().compression(), target);
            if (rep >= 0) {
                raws.add(raw);
                perCoreRaws.add(rawPerCore);
                sparks.add(res.rows() / res.seconds());
            }
            LOG.info(String.format("bench: labelling %.0f rows/s through Spark, %.0f rows/s calling the teacher directly%s%s",
                    res.rows() / res.seconds(), raw, perCore.isEmpty() ? ""
                            : String.format(" (%.0f with one single-threaded session per core)", rawPerCore),
                    rep < 0 ? " (warm-up)" : ""));
        }
        List<Teacher> opened = new ArrayList<>(perCore);
        opened.add(direct);
        for (Teacher t : opened) {
            if (t instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // the session is released either way
                }
            }
        }
        if (!source.isOnnx()) {
            return List.of(Bench.Row.of("labelling: Spark vs raw ND4J output()", sparks, raws, "rows/s", 0.85));
        }
        List<Bench.Row> out = new ArrayList<>();
        out.add(Bench.Row.of("labelling: Spark vs ONNX Runtime, 1 session x " + cores + " threads", sparks, raws, "rows/s",
                0.85));
        if (!perCore.isEmpty()) {
            out.add(Bench.Row.of("labelling: Spark vs ONNX Runtime, " + cores + " sessions x 1 thread", sparks, perCoreRaws,
                    "rows/s", 0.85));
        }
        return out;
    }

    /** Teacher time a labelling measurement should last at least (see {@link #labelling}). */
    static final double MIN_LABELLING_SECONDS = 2.0;

    /** Calls the teacher on every batch, {@code passes} times; returns the rows labelled. */
    private static long directPasses(Teacher teacher, List<float[]> batches, int f, int passes) {
        long n = 0;
        for (int p = 0; p < passes; p++) {
            for (float[] x : batches) {
                int r = x.length / f;
                teacher.logits(x, r);
                n += r;
            }
        }
        return n;
    }

    /** Batch i goes to teacher i mod n, each teacher on a thread of its own; returns the rows labelled. */
    private static long inParallel(List<Teacher> teachers, List<float[]> batches, int f, int passes) {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(teachers.size());
        try {
            List<java.util.concurrent.Future<Long>> done = new ArrayList<>();
            for (int t = 0; t < teachers.size(); t++) {
                List<float[]> mine = new ArrayList<>();
                for (int i = t; i < batches.size(); i += teachers.size()) {
                    mine.add(batches.get(i));
                }
                Teacher teacher = teachers.get(t);
                done.add(pool.submit(() -> directPasses(teacher, mine, f, passes)));
            }
            long n = 0;
            for (var d : done) {
                n += d.get();
            }
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("the teacher failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdown();
        }
    }

    /** {@code passes} copies of {@code rows}, the ids of copy k offset by k × (largest id + 1). */
    static Dataset<org.apache.spark.sql.Row> copies(Dataset<org.apache.spark.sql.Row> rows, int passes) {
        if (passes == 1) {
            return rows;
        }
        long offset = rows.agg(org.apache.spark.sql.functions.max(ExampleSchema.ID)).first().getLong(0) + 1;
        Dataset<org.apache.spark.sql.Row> all = rows;
        for (int k = 1; k < passes; k++) {
            all = all.union(rows.withColumn(ExampleSchema.ID,
                    org.apache.spark.sql.functions.col(ExampleSchema.ID).plus(k * offset)));
        }
        return all;
    }
}
