package dev.distill.job.report;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.distill.datasets.Rows;
import dev.distill.runtime.Int8Model;
import dev.distill.runtime.ModelFile;
import dev.distill.student.Evaluation;
import dev.distill.student.FlatArrays;
import dev.distill.student.spark.NetworkPool;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The report's per-stage table: the teacher and every form of the student that could be deployed, each
 * with test accuracy, agreement with the teacher, parameters, file bytes, batch-1 latency (median and
 * p95 of {@value #LATENCY_RUNS} single-row calls after warm-up calls) and batch-{@value #BATCH} throughput,
 * and the teacher's file size divided by the stage's; how long each stage is timed is {@link Timing}.
 *
 * <p>All stages run on the driver, on up to {@value #MAX_ROWS} test rows and one thread (ND4J and OpenBLAS held to one thread, ONNX Runtime to one
 * intra-op thread; the int8 runtime is single-threaded), as a small device would run them: the figures
 * compare engines, not core counts.
 */
public final class StageTable {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");
    public static final int LATENCY_RUNS = 200;
    static final int WARMUP = 50;
    public static final int BATCH = 256;
    /** Throughput windows measured; the median is reported. */
    static final int THROUGHPUT_WINDOWS = 5;

    /**
     * How long each stage is timed ({@code kd.report.speed-seconds}): half of it batch-1 calls before the latency
     * is timed (at least {@value #WARMUP} of them), half in {@value #THROUGHPUT_WINDOWS} windows of whole
     * batches. The warm-up matters: the dependency-free runtime runs in the JVM, whose compiler needs thousands
     * of calls (measured: 0.25 ms per call with no warm-up, 0.07 after 10,000 calls, for the 9,098-parameter
     * CNN). The default, 2 s, warms for a second and times five windows of 0.2 s.
     */
    public record Timing(double seconds) {
        public double warmupSeconds() {
            return seconds / 2;
        }

        public double windowSeconds() {
            return seconds / 2 / THROUGHPUT_WINDOWS;
        }
    }

    private StageTable() {
    }

    /** Test rows the stage table runs on the driver (all of Fashion-MNIST's 10,000; a sample of larger sets). */
    public static final int MAX_ROWS = 10_000;

    /** Up to {@link #MAX_ROWS} test rows on the driver: features, labels (null when absent) and the teacher's logits. */
    public record TestSet(float[][] x, Integer[] labels, float[][] teacher) {
        public static TestSet collect(Dataset<Row> test) {
            List<Row> rows = test.select("features", "label", "teacher_logits").limit(MAX_ROWS).collectAsList();
            float[][] x = new float[rows.size()][];
            Integer[] y = new Integer[rows.size()];
            float[][] t = new float[rows.size()][];
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                x[i] = Rows.floats(r.getList(0));
                y[i] = r.isNullAt(1) ? null : r.getInt(1);
                t[i] = Rows.floats(r.getList(2));
            }
            return new TestSet(x, y, t);
        }
    }

    /** One engine's inference: logits for a batch of rows. */
    public interface Engine {
        float[][] logits(float[][] rows);
    }

    /** Logits of {@code rows} rows of {@code features} features packed in {@code x}, row-major. */
    private interface FlatLogits {
        float[] logits(float[] x, int rows, int features);
    }

    /** An engine over flat row-major batches: rows are packed, run, and the logits split per row. */
    private static Engine flat(int classes, FlatLogits f) {
        return rows -> {
            int n = rows[0].length;
            float[] x = new float[rows.length * n];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(rows[i], 0, x, i * n, n);
            }
            float[] o = f.logits(x, rows.length, n);
            float[][] r = new float[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                r[i] = Arrays.copyOfRange(o, i * classes, (i + 1) * classes);
            }
            return r;
        };
    }

    /**
     * ND4J inference of a network, one batch at a time, into an input array allocated once per batch size
     * (an off-heap allocation per call makes JavaCPP run the garbage collector again and again on a small
     * driver heap: batch-256 throughput measured ten times lower on a 1 GB driver).
     */
    public static Engine nd4j(MultiLayerNetwork net) {
        var last = net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer();
        int classes = (int) ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) last).getNOut();
        org.nd4j.linalg.api.ndarray.INDArray[] input = new org.nd4j.linalg.api.ndarray.INDArray[1];
        return flat(classes, (x, rows, features) -> {
            if (input[0] == null || input[0].size(0) != rows) {
                input[0] = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, rows, features);
            }
            input[0].data().setData(x);
            return FlatArrays.of(net.output(input[0], false));
        });
    }

    /** A teacher through its own interface (ND4J or ONNX Runtime). */
    public static Engine teacher(dev.distill.teacher.Teacher t) {
        return flat(t.numClasses(), (x, rows, features) -> t.logits(x, rows));
    }

    /** The int8 runtime. */
    public static Engine int8(Int8Model m) {
        return rows -> {
            float[][] r = new float[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                r[i] = m.logits(rows[i]);
            }
            return r;
        };
    }

    /** The ONNX file in ONNX Runtime, on one intra-op thread; {@code run} measures it while the session is open. */
    public static Measured withOnnxRuntime(byte[] model, Function<Engine, Measured> run) {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            try (OrtSession session = env.createSession(model, options)) {
                String input = session.getInputNames().iterator().next();
                return run.apply(rows -> {
                    try (OnnxTensor in = OnnxTensor.createTensor(env, rows);
                         OrtSession.Result r = session.run(Map.of(input, in))) {
                        return (float[][]) r.get(0).getValue();
                    } catch (OrtException e) {
                        throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
                    }
                });
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load the exported model: " + e.getMessage(), e);
        }
    }

    /** A measured stage: its row of the table and its predictions on the test rows (to compare stages by). */
    public record Measured(Report.StageRow row, int[] predictions) {
    }

    /**
     * Measures one stage. With {@code reference} (another measured stage), also the share of test rows on which
     * the two predict the same class.
     */
    public static Measured measure(String stage, String engineName, Engine engine, Timing timing, TestSet test,
                                   int numClasses, long parameters, long fileBytes, long teacherBytes, Measured reference) {
        return measure(stage, engineName, engine, timing, test, numClasses, parameters, fileBytes, teacherBytes,
                reference, null);
    }

    /** The engine's predicted class for every test row, a batch of {@value #BATCH} at a time. */
    public static int[] predictions(Engine engine, TestSet test) {
        NetworkPool.limitThreads(1);
        int[] predictions = new int[test.x().length];
        for (int from = 0; from < test.x().length; from += BATCH) {
            int to = Math.min(from + BATCH, test.x().length);
            float[][] out = engine.logits(Arrays.copyOfRange(test.x(), from, to));
            for (int i = from; i < to; i++) {
                predictions[i] = Evaluation.argmax(out[i - from]);
            }
        }
        return predictions;
    }

    /**
     * As above; {@code known} are the engine's predictions on {@code test} when an earlier stage of the run
     * computed them already (the int8 file's, by export's check), so its accuracy is measured once per run.
     */
    public static Measured measure(String stage, String engineName, Engine engine, Timing timing, TestSet test,
                                   int numClasses, long parameters, long fileBytes, long teacherBytes, Measured reference,
                                   int[] known) {
        NetworkPool.limitThreads(1);
        int[] predictions = known != null ? known : predictions(engine, test);
        Evaluation eval = new Evaluation(numClasses);
        for (int i = 0; i < predictions.length; i++) {
            eval.recordPrediction(predictions[i], test.teacher()[i], test.labels()[i]);
        }
        int n = test.x().length;
        // Warm-up: single-row calls for half the timing (at least WARMUP of them), so that a JVM engine is
        // measured compiled, as it runs in a service, and not half-interpreted.
        long warmUntil = System.nanoTime() + (long) (timing.warmupSeconds() * 1e9);
        for (int i = 0; i < WARMUP || System.nanoTime() < warmUntil; i++) {
            engine.logits(new float[][] {test.x()[i % n]});
        }
        double[] ms = new double[LATENCY_RUNS];
        for (int i = 0; i < LATENCY_RUNS; i++) {
            float[][] one = {test.x()[i % n]};
            long t0 = System.nanoTime();
            engine.logits(one);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        float[][] batch = new float[Math.min(BATCH, n)][];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = test.x()[i];
        }
        engine.logits(batch);
        double rowsPerSecond = throughput(engine, batch, timing.windowSeconds());
        Report.AgreementWith with = null;
        if (reference != null) {
            int same = 0;
            for (int i = 0; i < predictions.length; i++) {
                same += predictions[i] == reference.predictions()[i] ? 1 : 0;
            }
            with = new Report.AgreementWith(reference.row().stage(),
                    predictions.length == 0 ? 1.0 : (double) same / predictions.length);
        }
        double median = ms[LATENCY_RUNS / 2];
        double p95 = ms[(int) Math.ceil(0.95 * LATENCY_RUNS) - 1];
        Report.StageRow row = new Report.StageRow(stage, engineName, eval.labelled() == 0 ? null : eval.accuracy(),
                eval.teacherAgreement(), parameters, fileBytes, (double) teacherBytes / fileBytes, median, p95,
                rowsPerSecond, with);
        LOG.info(String.format("stage %-28s %-12s accuracy %.2f%%  agreement %.2f%%  %,d bytes  batch-1 %.3f ms"
                        + " (p95 %.3f)  batch-%d %,.0f rows/s", stage, engineName,
                eval.labelled() == 0 ? Double.NaN : 100 * eval.accuracy(), 100 * eval.teacherAgreement(), fileBytes,
                median, p95, BATCH, rowsPerSecond));
        return new Measured(row, predictions);
    }

    /**
     * Rows per second at batch {@value #BATCH}: the median of {@value #THROUGHPUT_WINDOWS} windows of whole
     * batches lasting at least {@code windowSeconds} each. (Eight batches, as before, took about 15 ms for a
     * small student: one descheduling or collection on a busy driver decided the figure.)
     */
    static double throughput(Engine engine, float[][] batch, double windowSeconds) {
        double[] rates = new double[THROUGHPUT_WINDOWS];
        for (int w = 0; w < rates.length; w++) {
            long rows = 0;
            long t0 = System.nanoTime();
            long elapsed;
            do {
                engine.logits(batch);
                rows += batch.length;
                elapsed = System.nanoTime() - t0;
            } while (elapsed < windowSeconds * 1e9);
            rates[w] = rows / (elapsed / 1e9);
        }
        Arrays.sort(rates);
        return rates[rates.length / 2];
    }

    /** Reads the int8 file at {@code path} with the runtime's own reader. */
    public static Int8Model readInt8(dev.distill.job.Workspace workspace, String path) {
        try (InputStream in = workspace.open(path)) {
            return ModelFile.read(in, path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }
}
