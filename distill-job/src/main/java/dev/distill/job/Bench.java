package dev.distill.job;

import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.Rows;
import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.student.KdLoss;
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
 *   <li>2 workers vs 1 worker, each held to one BLAS thread (the trainer's scaling, not BLAS threading).</li>
 * </ol>
 * Writes {@code report/bench.json} and prints the table with the accuracy/size summary of the last run.
 */
final class Bench {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");
    private static final int REPEATS = 5;
    /** Training measurements take longer; three pairs. */
    private static final int TRAINING_REPEATS = 3;
    /** Epochs per training measurement: long enough that one descheduling does not decide the result. */
    private static final int EPOCHS = 3;

    private Bench() {
    }

    record Row(String what, double measured, double reference, String unit, double target, double ratio) {
        /** Medians of the paired measurements, and the median of their ratios. */
        static Row of(String what, List<Double> measured, List<Double> reference, String unit, double target) {
            List<Double> ratios = new ArrayList<>();
            for (int i = 0; i < measured.size(); i++) {
                ratios.add(measured.get(i) / reference.get(i));
            }
            return new Row(what, median(measured), median(reference), unit, target, median(ratios));
        }
    }

    static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        java.util.Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static List<Row> run(JobContext ctx, PrintStream out) {
        DatasetLoader.Splits data = ctx.data();
        long rows = data.train().count();
        int cores = ctx.spark.sparkContext().defaultParallelism();
        LOG.info("bench: {} training rows, {} cores (default parallelism)", rows, cores);
        List<Row> table = new ArrayList<>();
        table.addAll(labelling(ctx, data, rows, cores));
        table.addAll(training(ctx, data, cores));
        Map<String, Object> topK = topK(ctx, cores);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("created_at", Instant.now().toString());
        json.put("spark_master", ctx.spark.sparkContext().master());
        json.put("cores", cores);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Row r : table) {
            list.add(Map.of("what", r.what(), "measured", r.measured(), "reference", r.reference(), "unit", r.unit(),
                    "ratio", r.ratio(), "target", r.target()));
        }
        json.put("ratios", list);
        json.put("top_k", topK);
        json.put("versions", JobContext.versions());
        ctx.workspace.writeString(ctx.workspace.path("report", "bench.json"), Json.write(json));
        out.println();
        out.print(table(table));
        out.printf("%ntop-k soft labels on a synthetic problem of %,d classes (k = %d, %,d training rows):%n"
                        + "  logit columns on disk: %,d bytes full, %,d bytes top-k (%.1fx smaller; target >= 20x)%n"
                        + "  student test accuracy: %.2f%% on full logits, %.2f%% on top-k (%+.2f points; target within 1)%n",
                topK.get("classes"), topK.get("k"), topK.get("train_rows"), topK.get("bytes_full"), topK.get("bytes_top_k"),
                topK.get("size_ratio"), 100 * (double) topK.get("accuracy_full"), 100 * (double) topK.get("accuracy_top_k"),
                100 * ((double) topK.get("accuracy_top_k") - (double) topK.get("accuracy_full")));
        String report = ctx.workspace.path("report", "report.json");
        if (ctx.workspace.exists(report)) {
            out.println();
            out.println("accuracy and size of the last `run` (" + report + "):");
            out.print(Evaluate.table(Json.read(ctx.workspace.readString(report))));
        } else {
            out.println("\n(no " + report + " yet: `distill run` the job for the accuracy and size summary)");
        }
        out.println("\nwritten to " + ctx.workspace.path("report", "bench.json"));
        return table;
    }

    static String table(List<Row> rows) {
        StringBuilder b = new StringBuilder(String.format("%-52s %16s %16s %8s %8s%n", "benchmark", "measured",
                "reference", "ratio", "target"));
        for (Row r : rows) {
            b.append(String.format("%-52s %,11.0f %-4s %,11.0f %-4s %7.2fx %7s%n", r.what(), r.measured(), r.unit(),
                    r.reference(), r.unit(), r.ratio(), String.format(">=%.2f", r.target())));
        }
        return b.toString();
    }

    /**
     * Labelling through Spark vs the same teacher called directly over the same batches on the driver (ND4J
     * {@code output()} for a DL4J teacher; for an ONNX one, ONNX Runtime's {@code run} in one session with every
     * core's threads and, as a second row, in one single-threaded session per core).
     */
    private static List<Row> labelling(JobContext ctx, DatasetLoader.Splits data, long rows, int cores) {
        int numClasses = ctx.settings.dataset().numClasses();
        String model = ctx.workspace.model("teacher");
        if (!ctx.settings.teacher().trainedHere()) {
            model = ctx.settings.teacher().model();
        } else if (!ctx.workspace.exists(model)) {
            // Throughput does not depend on the weights: an untrained teacher of the configured shape will do.
            model = ctx.workspace.path("bench", "teacher-untrained.zip");
            NetworkSpec spec = new NetworkSpec(data.inputShape(), numClasses, ctx.settings.teacher().architecture().layers());
            MultiLayerNetwork fresh = spec.newNetwork(new KdLoss(1, 0), ctx.settings.teacher().training(), 1);
            ctx.workspace.writeAtomically(model, o -> ModelSerializer.writeModel(fresh, o, false));
        }
        int batch = ctx.settings.teacher().labelBatchSize();
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
        TeacherSource source = ctx.settings.teacher().source(model, data.featureLength(), numClasses);
        Teacher direct = source.open(ctx.workspace.hadoop(), cores);
        // ONNX Runtime called directly in two ways that use every core: one session with a thread per core
        // (ONNX Runtime's usual set-up), and one single-threaded session per core on threads of their own (as
        // the executors run it, so that ratio is Spark's own cost). Which is faster depends on the model and
        // the batch; on the 2-vCPU development host the first measured either ~145k or ~250k rows/s from one
        // JVM start to the next, the second ~250k steadily.
        List<Teacher> perCore = new ArrayList<>();
        if (source.isOnnx() && cores > 1) {
            for (int c = 0; c < cores; c++) {
                perCore.add(source.open(ctx.workspace.hadoop(), 1));
            }
        }
        int f = data.featureLength();
        String sha = ctx.workspace.sha256(model);
        SoftLabelMetadata md = new SoftLabelMetadata(SoftLabelMetadata.SCHEMA_VERSION, "bench", sha, numClasses,
                data.inputShape(), data.normalisation().describe(), ctx.dataKey("train"), Instant.now().toString());
        String target = ctx.workspace.path("bench", "soft-labels");
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
        for (int rep = -1; rep < REPEATS; rep++) {
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
                    ctx.settings.teacher().compression(), target);
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
            return List.of(Row.of("labelling: Spark vs raw ND4J output()", sparks, raws, "rows/s", 0.85));
        }
        List<Row> out = new ArrayList<>();
        out.add(Row.of("labelling: Spark vs ONNX Runtime, 1 session x " + cores + " threads", sparks, raws, "rows/s",
                0.85));
        if (!perCore.isEmpty()) {
            out.add(Row.of("labelling: Spark vs ONNX Runtime, " + cores + " sessions x 1 thread", sparks, perCoreRaws,
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
    private static Map<String, Object> topK(JobContext ctx, int cores) {
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
        Dataset<org.apache.spark.sql.Row> examples = ctx.spark.createDataFrame(train.stream()
                .map(e -> org.apache.spark.sql.RowFactory.create(e.id(), e.x(), e.label())).toList(), ExampleSchema.SCHEMA);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("classes", classes);
        m.put("k", TOPK_K);
        m.put("train_rows", train.size());
        long[] bytes = new long[2];
        double[] accuracy = new double[2];
        for (int variant = 0; variant < 2; variant++) {
            SoftLabelMetadata v = variant == 0 ? md : md.withTopK(TOPK_K);
            String dir = ctx.workspace.path("bench", variant == 0 ? "topk-full" : "topk-" + TOPK_K);
            String tmp = dev.distill.datasets.softlabels.SoftLabelStore.createTemp(ctx.workspace.hadoop(), dir);
            try {
                dev.distill.datasets.softlabels.SoftLabelStore.writePart(ctx.workspace.hadoop(), tmp, 0, 0, v,
                        train.stream().map(Synthetic::softLabel).iterator());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            dev.distill.datasets.softlabels.SoftLabelStore.commit(ctx.workspace.hadoop(), tmp, dir, "{}");
            bytes[variant] = dev.distill.datasets.softlabels.SoftLabelStore.columnBytes(ctx.workspace.hadoop(),
                    dir + "/part-00000.parquet", "teacher_logits", "topk_", "logsumexp");
            var rows = dev.distill.datasets.spark.SoftLabelReader.read(ctx.spark, dir, v, examples).repartition(cores);
            NetworkSpec spec = new NetworkSpec(new int[] {dims}, classes,
                    List.of(new dev.distill.student.LayerSpec("dense", 128, "relu", 0, 0, 0, 1, "same", "max")));
            TrainingSettings t = new TrainingSettings(6, 64, cores, 64, "adam", 0.002, 0.9, "constant", 0.5, 1, 0, 5);
            KdLoss loss = new KdLoss(ctx.settings.student().temperature(), 1.0);
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
        m.put("bytes_full", bytes[0]);
        m.put("bytes_top_k", bytes[1]);
        m.put("size_ratio", (double) bytes[0] / bytes[1]);
        m.put("accuracy_full", accuracy[0]);
        m.put("accuracy_top_k", accuracy[1]);
        return m;
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

    /** The trainer vs plain fit() on all cores, and 2 one-core workers vs 1. */
    private static List<Row> training(JobContext ctx, DatasetLoader.Splits data, int cores) {
        int numClasses = ctx.settings.dataset().numClasses();
        TrainingSettings t = ctx.settings.student().training().withEpochs(EPOCHS);
        KdLoss loss = ctx.settings.student().loss();
        NetworkSpec spec = new NetworkSpec(data.inputShape(), numClasses, ctx.settings.student().architecture().layers());
        MultiLayerConfiguration conf = spec.toConfiguration(loss, t, t.seed());
        int f = data.featureLength();
        JavaRDD<PackedBatch> one = BatchPacker.pack(data.train(), numClasses, f, 1, t.batchSize(), t.seed(), false);
        JavaRDD<PackedBatch> two = BatchPacker.pack(data.train(), numClasses, f, 2, t.batchSize(), t.seed(), false);
        List<PackedBatch> local = one.collect();
        two.count();
        List<Double> plain = new ArrayList<>();
        List<Double> trainerTwo = new ArrayList<>();
        List<Double> trainerOne = new ArrayList<>();
        for (int rep = -1; rep < TRAINING_REPEATS; rep++) {
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
                Row.of("training: trainer, 2 workers vs plain fit(), " + cores + " threads", trainerTwo, plain, "ex/s", 0.85),
                Row.of("scaling: trainer, 2 one-core workers vs 1", trainerTwo, trainerOne, "ex/s", 1.6));
    }

    private static double plainFit(MultiLayerConfiguration conf, List<PackedBatch> batches, int f, int threads) {
        NetworkPool.limitThreads(threads);
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(conf.toJson()));
        net.init();
        long n = 0;
        long t0 = System.nanoTime();
        INDArray x = null;
        INDArray y = null;
        for (int epoch = 0; epoch < EPOCHS; epoch++) {
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
        ctx.describe("bench", "trainer throughput with " + workers + " workers");
        var result = new ParameterAveragingTrainer("bench-" + workers + "w", t, workers, null)
                .train(ctx.sc(), batches, conf, "bench", null);
        long examples = 0;
        double seconds = 0;
        for (EpochStats e : result.history()) {
            examples += e.examples();
            seconds += e.seconds();
        }
        return examples / seconds;
    }
}
