package dev.distill.job.bench;

import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.job.JobContext;
import dev.distill.job.Json;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import dev.distill.student.loss.DistillationLosses;
import dev.distill.student.spark.BatchPacker;
import dev.distill.student.spark.PackedBatch;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Convolutional training: the distributed trainer (one worker per core, one thread each) against PyTorch
 * training the same network with as many threads, at batch {@value #BATCH} with Adam and cross-entropy.
 * PyTorch runs {@code torch_train.py} (a resource of this package) with Debian's {@code /usr/bin/python3};
 * without torch the row says why it was skipped. The network is the job's student when it has convolutions,
 * else the reference CNN of {@code conf/fashion-mnist-conv-int8.conf} (9,098 parameters on 1x28x28).
 */
final class ConvTrainingBench {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");
    static final int BATCH = 128;
    static final String PYTHON = "/usr/bin/python3";
    /** Seconds PyTorch trains per measurement, after its warm-up. */
    static final double TORCH_SECONDS = 6;
    /** 1x28x28 -> conv 8@3x3 -> max pool 2 -> conv 16@3x3 -> max pool 2 -> output. */
    static final List<LayerSpec> REFERENCE_CNN = List.of(LayerSpec.conv(8, 3), LayerSpec.pool("max", 2),
            LayerSpec.conv(16, 3), LayerSpec.pool("max", 2));

    private ConvTrainingBench() {
    }

    static List<Bench.Row> run(JobContext ctx, DatasetLoader.Splits data, int cores) {
        String what = "conv training: trainer vs PyTorch, " + cores + " threads";
        if (data.inputShape().length != 3) {
            return List.of(Bench.Row.skipped(what, "the job's data has no [channels, height, width] input shape"
                    + " (kd.dataset.input-shape)"));
        }
        List<LayerSpec> layers = ctx.settings().student().architecture().layers();
        if (layers.stream().noneMatch(l -> "conv".equals(l.type()) || "depthwise".equals(l.type()))) {
            layers = REFERENCE_CNN;
        }
        String unsupported = unsupported(layers);
        if (unsupported != null) {
            return List.of(Bench.Row.skipped(what, "the PyTorch script does not build " + unsupported));
        }
        int numClasses = ctx.settings().dataset().numClasses();
        TrainingSettings job = ctx.settings().student().training();
        TrainingSettings t = new TrainingSettings(1, BATCH, cores, job.averagingFrequency(), "adam", job.learningRate(),
                0.9, "constant", 1, 1, 0, job.seed());
        NetworkSpec spec = new NetworkSpec(data.inputShape(), numClasses, layers);
        MultiLayerConfiguration conf = spec.toConfiguration(DistillationLosses.hardLabels(), t, t.seed());
        long params = spec.newNetwork(DistillationLosses.hardLabels(), t, 1).numParams();
        Path script = extractScript();
        try {
            Torch probe = torch(PYTHON, script, layers, data.inputShape(), numClasses, cores, job.learningRate(), 0.5);
            if (probe.skipped() != null) {
                return List.of(Bench.Row.skipped(what, probe.skipped()));
            }
            if (probe.parameters() != params) {
                return List.of(Bench.Row.skipped(what, "PyTorch built " + probe.parameters() + " parameters for this"
                        + " architecture, ours has " + params + ": not the same network"));
            }
            LOG.info("bench: conv training of {} parameters at batch {}, PyTorch {}", params, BATCH, probe.version());
            JavaRDD<PackedBatch> batches = BatchPacker.pack(data.train(), numClasses, data.featureLength(), cores,
                    BATCH, t.seed(), false);   // cached by the packer
            batches.count();
            List<Double> ours = new ArrayList<>();
            List<Double> theirs = new ArrayList<>();
            try {
                for (int rep = -1; rep < Bench.TRAINING_REPEATS; rep++) {
                    double trainer = TrainingBench.trainerRate(ctx, "bench-conv", "convolutional training with "
                            + cores + " workers", t, cores, batches, conf);
                    Torch torch = torch(PYTHON, script, layers, data.inputShape(), numClasses, cores,
                            job.learningRate(), TORCH_SECONDS);
                    if (torch.skipped() != null) {
                        return List.of(Bench.Row.skipped(what, torch.skipped()));
                    }
                    if (rep < 0) {
                        continue;   // warm-up
                    }
                    ours.add(trainer);
                    theirs.add(torch.examplesPerSecond());
                    LOG.info(String.format("bench: conv training %.0f examples/s (trainer, %d workers), %.0f (PyTorch,"
                            + " %d threads)", trainer, cores, torch.examplesPerSecond(), cores));
                }
            } finally {
                batches.unpersist();
            }
            return List.of(Bench.Row.of(what, ours, theirs, "ex/s", 0.8));
        } finally {
            try {
                Files.deleteIfExists(script);
            } catch (IOException ignored) {
                // a temporary file
            }
        }
    }

    /** What in {@code layers} the PyTorch script cannot build the same way, or null when it builds them all. */
    static String unsupported(List<LayerSpec> layers) {
        for (LayerSpec l : layers) {
            if (l.lowRank()) {
                return "low-rank layers (rank = " + l.rank() + ")";
            }
            if (!java.util.Set.of("relu", "identity", "tanh", "sigmoid").contains(l.activation())) {
                return "the activation " + l.activation();
            }
            if (("conv".equals(l.type()) || "depthwise".equals(l.type())) && "same".equals(l.padding())
                    && (l.stride() != 1 || l.kernel() % 2 == 0)) {
                return "a \"same\" convolution with stride " + l.stride() + " and kernel " + l.kernel()
                        + " (DL4J pads it asymmetrically)";
            }
            if ("pool".equals(l.type()) && l.stride() != l.kernel()) {
                return "pooling with a stride other than its kernel";
            }
        }
        return null;
    }

    /** One PyTorch measurement: examples/s, the network's parameter count and torch's version, or why there is none. */
    record Torch(double examplesPerSecond, long parameters, String version, String skipped) {
        static Torch skip(String why) {
            return new Torch(0, 0, null, why);
        }
    }

    /** Trains the network in PyTorch with {@code python} for {@code seconds} after a warm-up. */
    static Torch torch(String python, Path script, List<LayerSpec> layers, int[] shape, int classes, int threads,
                       double lr, double seconds) {
        if (!Files.isExecutable(Path.of(python))) {
            return Torch.skip("no " + python + " (apt-get install python3-torch)");
        }
        List<String> cmd = List.of(python, script.toString(), "--layers", Json.write(describe(layers)),
                "--input-shape", String.join(",", java.util.Arrays.stream(shape).mapToObj(Integer::toString).toList()),
                "--classes", Integer.toString(classes), "--batch", Integer.toString(BATCH), "--threads",
                Integer.toString(threads), "--lr", Double.toString(lr), "--seconds", Double.toString(seconds));
        Path output = null;
        try {
            output = Files.createTempFile("distill-torch", ".out");
            // Output to a file, so that a process that hangs is stopped at the timeout rather than read forever.
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor((long) seconds + 120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Torch.skip("PyTorch did not finish in " + ((long) seconds + 120) + " s");
            }
            String out = Files.readString(output, StandardCharsets.UTF_8).strip();
            String last = out.lines().reduce((a, b) -> b).orElse("");
            if (p.exitValue() == 3) {
                String why = last.startsWith("{") ? String.valueOf(Json.read(last).get("error")) : last;
                return Torch.skip("PyTorch cannot be imported by " + python + " (" + why + "; apt-get install"
                        + " python3-torch)");
            }
            if (p.exitValue() != 0 || !last.startsWith("{")) {
                return Torch.skip("the PyTorch script failed (exit " + p.exitValue() + "): " + last);
            }
            Map<String, Object> r = Json.read(last);
            return new Torch(((Number) r.get("examples_per_s")).doubleValue(), ((Number) r.get("parameters")).longValue(),
                    String.valueOf(r.get("torch")), null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + python + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while PyTorch was training", e);
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException ignored) {
                    // a temporary file
                }
            }
        }
    }

    /** The layers as the script reads them. */
    static List<Map<String, Object>> describe(List<LayerSpec> layers) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (LayerSpec l : layers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", l.type());
            switch (l.type()) {
                case "conv", "depthwise" -> {
                    if ("conv".equals(l.type())) {
                        m.put("filters", l.filters());
                    }
                    m.put("kernel", l.kernel());
                    m.put("stride", l.stride());
                    m.put("padding", l.padding());
                }
                case "pool" -> {
                    m.put("kind", l.poolKind());
                    m.put("kernel", l.kernel());
                }
                case "dense" -> m.put("units", l.units());
                default -> {
                }
            }
            m.put("activation", l.activation());
            m.put("dropout", l.dropout());
            out.add(m);
        }
        return out;
    }

    static Path extractScript() {
        try (InputStream in = ConvTrainingBench.class.getResourceAsStream("torch_train.py")) {
            Path f = Files.createTempFile("distill-torch-train", ".py");
            Files.write(f, in.readAllBytes());
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the PyTorch benchmark script: " + e.getMessage(), e);
        }
    }
}
