package dev.distill.job.stages;

import dev.distill.datasets.Rows;
import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.job.JobContext;
import dev.distill.job.Json;
import dev.distill.job.Provenance;
import dev.distill.job.Workspace;
import dev.distill.job.report.StageTable;
import dev.distill.runtime.Int8Model;
import dev.distill.runtime.ModelFile;
import dev.distill.student.export.Int8Exporter;
import dev.distill.student.export.OnnxExporter;
import dev.distill.student.quant.Qat;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code export}: the trained student as {@code export/student.zip} (a DL4J model zip) and, for a student of
 * dense, convolution and max-pooling layers, {@code export/student.int8} for the dependency-free runtime and
 * the same quantised network as {@code export/student.onnx} (QDQ form). A quantisation-aware student is
 * exported with the activation ranges and weight bits it trained with; any other by post-training
 * quantisation. The files are written to a hidden folder, the int8 file is read back with the runtime's own
 * reader and checked against the network it stands for on the test split, and only then does the folder
 * replace {@code export/}: a failed export leaves the previous one whole.
 */
final class ExportStage implements Stage {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    static final int CALIBRATION_ROWS = 2048;

    /** The facts of {@code export/provenance.json}. */
    record Facts(String modelFile, String modelSha256, long modelFileBytes, String teacherSha256, String teacherId,
                 Map<String, Long> softLabelRows, int[] inputShape, String normalisation, Map<String, Long> seeds,
                 Object normalisationParameters, Map<String, Object> int8) {
    }

    @Override
    public String name() {
        return "export";
    }

    @Override
    public String folder() {
        return "export";
    }

    @Override
    public String makes() {
        return "export/";
    }

    @Override
    public boolean publishesAtomically() {
        return true;
    }

    @Override
    public StageKey key(JobContext ctx) {
        return StageKey.builder().file(ctx, "student model", ctx.workspace().model("student"))
                .settings(ctx, "kd.student")
                .settings(ctx, "kd.dataset.class-names").build();   // the provenance names the classes
    }

    @Override
    public boolean complete(JobContext ctx) {
        return ctx.workspace().exists(ctx.workspace().path("export", "student.zip"));
    }

    @Override
    public Object run(JobContext ctx) {
        ctx.describe(name(), "write the deployable student and check it on the test split");
        Workspace w = ctx.workspace();
        String model = w.model("student");
        if (!w.exists(model)) {
            throw new IllegalArgumentException("student model not found: " + model
                    + "; run `distill train-student <job.conf>` first");
        }
        SoftLabelStore.Info info = SoftLabels.check(ctx, "train");
        SoftLabels.Joined test = SoftLabels.joined(ctx, "test");
        String staging = w.createStaging("export");
        try {
            String zip = w.path("export", "student.zip");
            w.copy(model, staging + "/student.zip");
            Map<String, Long> seeds = new LinkedHashMap<>();
            seeds.put("student", ctx.settings().student().training().seed());
            seeds.put("teacher", ctx.settings().teacher().training().seed());
            seeds.put("split", ctx.settings().dataset().splitSeed());
            String labelRecord = w.path("soft-labels", Provenance.FILE);
            Map<String, Object> int8 = int8(ctx, model, test.rows(), staging);
            Facts facts = new Facts(zip, w.sha256(staging + "/student.zip"), w.size(staging + "/student.zip"),
                    info.metadata().teacherSha256(), info.metadata().teacherId(),
                    Map.of("train", info.rows(), "test", test.info().rows()), info.metadata().inputShape(),
                    info.metadata().normalisation(), seeds,
                    w.exists(labelRecord) ? Json.read(w.readString(labelRecord)).get("normalisation") : null, int8);
            w.publish(staging, w.path("export"));
            LOG.info("export: wrote {}", w.path("export"));
            return facts;
        } catch (RuntimeException | Error e) {
            w.deleteRecursively(staging);
            throw e;
        }
    }

    /**
     * The int8 file for the dependency-free runtime, written into {@code staging}: from the trained ranges of a
     * quantisation-aware student, or by post-training quantisation with activation ranges from up to
     * {@value #CALIBRATION_ROWS} training rows. A student with layers the runtime cannot run (batch norm,
     * average pooling) gets none, with a note. The file is read back with the runtime's reader, and its
     * predictions compared with the network it stands for (the fake-quantised student after
     * quantisation-aware training, else the fp32 student).
     */
    private static Map<String, Object> int8(JobContext ctx, String model, Dataset<Row> testRows, String staging) {
        Map<String, Object> m = new LinkedHashMap<>();
        Workspace w = ctx.workspace();
        MultiLayerNetwork loaded = ctx.loadNetwork(model);
        Qat qat = Qat.of(ctx.settings().student().architecture());
        boolean trainedQuantised = Qat.isQuantised(loaded);
        if (trainedQuantised != (qat != null)) {
            throw new IllegalStateException(model + (trainedQuantised ? " was" : " was not")
                    + " trained quantisation-aware but kd.student.quantisation.enabled = " + (qat != null)
                    + "; run `distill train-student` again with the current settings");
        }
        MultiLayerNetwork net = loaded;
        Int8Model q;
        try {
            if (trainedQuantised) {
                int bits = qat.bits();
                q = Int8Exporter.exportQuantised(loaded, bits);
                net = qat.fakeQuantised(loaded);
                m.put("method", "quantisation-aware training (" + bits + "-bit weights, trained activation ranges)");
            } else {
                float[][] sample = ctx.data().train().select("features").limit(CALIBRATION_ROWS).collectAsList()
                        .stream().map(r -> Rows.floats(r.getList(0))).toArray(float[][]::new);
                q = Int8Exporter.export(loaded, Int8Exporter.calibrate(loaded, sample));
                m.put("method", "post-training quantisation (8-bit weights, ranges calibrated on "
                        + sample.length + " training rows)");
            }
        } catch (IllegalArgumentException e) {
            LOG.info("export: no int8 or ONNX file: {}", e.getMessage());
            m.put("skipped", e.getMessage());
            return m;
        }
        String file = staging + "/student.int8";
        w.writeAtomically(file, out -> ModelFile.write(q, out));
        Int8Model written = StageTable.readInt8(w, file);   // what the runtime will load, not what we meant to write
        byte[] onnxBytes = OnnxExporter.export(written, String.valueOf(JobContext.versions().get("distill")));
        w.writeAtomically(staging + "/student.onnx", out -> out.write(onnxBytes));
        m.put("onnx_file", w.path("export", "student.onnx"));
        m.put("onnx_file_bytes", onnxBytes.length);
        StageTable.TestSet test = SoftLabels.testSet(ctx, testRows);
        int[] predictions = StageTable.predictions(StageTable.int8(written), test);
        int[] reference = StageTable.predictions(StageTable.nd4j(net), test);
        // evaluate's stage table takes the int8 file's predictions from here: measured once per run.
        ctx.remember(SoftLabels.INT8_PREDICTIONS + w.sha256(file), predictions);
        long correct = 0;
        long agree = 0;
        long labelled = 0;
        for (int i = 0; i < predictions.length; i++) {
            agree += predictions[i] == reference[i] ? 1 : 0;
            if (test.labels()[i] != null) {
                labelled++;
                correct += predictions[i] == test.labels()[i] ? 1 : 0;
            }
        }
        int rows = predictions.length;
        m.put("file", w.path("export", "student.int8"));
        m.put("file_bytes", w.size(file));
        m.put("test_rows", rows);
        m.put("test_accuracy", labelled == 0 ? null : (double) correct / labelled);
        String versus = trainedQuantised ? "fake-quantised student" : "fp32 student";
        m.put(trainedQuantised ? "agreement_with_fake_quantised_student" : "agreement_with_fp32_student",
                rows == 0 ? null : (double) agree / rows);
        if (rows > 0 && agree < 0.99 * rows) {
            LOG.warn(String.format("export: the int8 file predicts what the %s predicts on only %.2f%% of test rows;"
                    + " it is exported, but check the stage table of `distill evaluate` before deploying it", versus,
                    100.0 * agree / rows));
        }
        LOG.info(String.format("export: student.int8 (%,d bytes): int8 runtime test accuracy %.2f%%, agrees with the"
                + " %s on %.2f%% of test rows", w.size(file), labelled == 0 ? Double.NaN : 100.0 * correct / labelled,
                versus, 100.0 * agree / Math.max(1, rows)));
        return m;
    }

    @Override
    public List<Output> outputs(Workspace w) {
        return List.of(new Output("export", w.path("export", "student.zip")));
    }

    @Override
    public List<String> files(Workspace w) {
        return List.of(w.path("export", "student.zip"), w.path("export", "student.int8"),
                w.path("export", "student.onnx"));
    }
}
