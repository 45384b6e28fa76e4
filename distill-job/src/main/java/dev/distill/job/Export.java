package dev.distill.job;

import dev.distill.datasets.Rows;
import dev.distill.runtime.Int8Model;
import dev.distill.runtime.ModelFile;
import dev.distill.student.Evaluation;
import dev.distill.student.FlatArrays;
import dev.distill.student.Int8Exporter;
import dev.distill.student.OnnxExporter;
import dev.distill.student.quant.Qat;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * export: copies the trained student to {@code export/student.zip} (a DL4J model zip) with
 * {@code export/provenance.json}: resolved configuration, data paths and row counts, teacher SHA-256,
 * seeds, versions, and the student's own SHA-256; and, for a student of dense, convolution and max-pooling
 * layers, {@code export/student.int8}
 * for the dependency-free runtime, with its test accuracy, and the same quantised network as
 * {@code export/student.onnx} (QDQ form) for ONNX runtimes. A quantisation-aware student is exported with
 * the activation ranges and weight bits it trained with; any other by post-training quantisation.
 */
final class Export {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    static final int CALIBRATION_ROWS = 2048;

    private Export() {
    }

    static String run(JobContext ctx) {
        ctx.describe("export", "write the deployable student and check it on the test split");
        String model = ctx.workspace.model("student");
        if (!ctx.workspace.exists(model)) {
            throw new IllegalArgumentException("student model not found: " + model
                    + "; run `distill train-student <job.conf>` first");
        }
        var info = Stages.checkSoftLabels(ctx, "train");
        Stages.SoftLabelled test = Stages.softLabelled(ctx, "test");
        Map<String, String> key = StageKeys.export(ctx);
        ctx.workspace.delete(ctx.workspace.path("export", "provenance.json"));   // written again when done
        String target = ctx.workspace.path("export", "student.zip");
        ctx.workspace.copy(model, target);
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("model_file", target);
        facts.put("model_sha256", ctx.workspace.sha256(target));
        facts.put("model_file_bytes", ctx.workspace.size(target));
        facts.put("teacher_sha256", info.metadata().teacherSha256());
        facts.put("teacher_id", info.metadata().teacherId());
        facts.put("soft_label_rows", Map.of("train", info.rows(), "test", test.info().rows()));
        facts.put("input_shape", info.metadata().inputShape());
        facts.put("normalisation", info.metadata().normalisation());
        facts.put("seeds", Map.of("student", ctx.settings.student().training().seed(),
                "teacher", ctx.settings.teacher().training().seed(),
                "split", ctx.settings.dataset().splitSeed()));
        String softLabelProvenance = ctx.workspace.path("soft-labels", "provenance.json");
        if (ctx.workspace.exists(softLabelProvenance)) {
            facts.put("normalisation_parameters", Json.read(ctx.workspace.readString(softLabelProvenance)).get("normalisation"));
        }
        facts.put("int8", int8(ctx, model, test.rows()));
        facts.put(StageKeys.KEY, key);
        Provenance.write(ctx, "export", facts);
        LOG.info("export: wrote {} and {}", target, ctx.workspace.path("export", "provenance.json"));
        return target;
    }

    /**
     * The int8 file for the dependency-free runtime: from the trained ranges of a quantisation-aware student,
     * or by post-training quantisation with activation ranges from up to {@value #CALIBRATION_ROWS} training
     * rows. Students with layers the runtime cannot run (batch norm, average pooling) are skipped with a
     * note. Returns what was written and measured; agreement is with the network the file stands for (the
     * fake-quantised student after quantisation-aware training, else the fp32 student).
     */
    private static Map<String, Object> int8(JobContext ctx, String model, Dataset<Row> testRows) {
        Map<String, Object> m = new LinkedHashMap<>();
        MultiLayerNetwork loaded = ctx.loadNetwork(model);
        Qat qat = Qat.of(ctx.settings.student().architecture());
        boolean trainedQuantised = Qat.isQuantised(loaded);
        MultiLayerNetwork net = loaded;
        float[][] sample = new float[0][];
        Int8Model q;
        try {
            if (trainedQuantised != (qat != null)) {
                throw new IllegalStateException(model + (trainedQuantised ? " was" : " was not")
                        + " trained quantisation-aware but kd.student.quantisation.enabled = " + (qat != null)
                        + "; run `distill train-student` again with the current settings");
            }
            if (trainedQuantised) {
                int bits = qat.bits();
                q = Int8Exporter.exportQuantised(loaded, bits);
                net = qat.fakeQuantised(loaded);
                m.put("method", "quantisation-aware training (" + bits + "-bit weights, trained activation ranges)");
            } else {
                sample = ctx.data().train().select("features").limit(CALIBRATION_ROWS).collectAsList().stream()
                        .map(r -> Rows.floats(r.getList(0))).toArray(float[][]::new);
                q = Int8Exporter.export(loaded, Int8Exporter.calibrate(loaded, sample));
                m.put("method", "post-training quantisation (8-bit weights, ranges calibrated on "
                        + sample.length + " training rows)");
            }
        } catch (IllegalArgumentException e) {
            LOG.info("export: no int8 or ONNX file: {}", e.getMessage());
            m.put("skipped", e.getMessage());
            // Files of an earlier student would be measured by evaluate as if they were this one's.
            ctx.workspace.delete(ctx.workspace.path("export", "student.int8"));
            ctx.workspace.delete(ctx.workspace.path("export", "student.onnx"));
            return m;
        }
        String file = ctx.workspace.path("export", "student.int8");
        ctx.workspace.writeAtomically(file, out -> ModelFile.write(q, out));
        String onnx = ctx.workspace.path("export", "student.onnx");
        byte[] onnxBytes = OnnxExporter.export(q, String.valueOf(JobContext.versions().get("distill")));
        ctx.workspace.writeAtomically(onnx, out -> out.write(onnxBytes));
        m.put("onnx_file", onnx);
        m.put("onnx_file_bytes", onnxBytes.length);
        List<Row> test = testRows.select("features", "label")
                .limit(StageTable.MAX_ROWS).collectAsList();
        float[][] xs = test.stream().map(r -> Rows.floats(r.getList(0))).toArray(float[][]::new);
        float[] fp32 = xs.length == 0 ? new float[0] : FlatArrays.of(net.output(Nd4j.create(xs), false));
        int c = q.numClasses();
        long correct = 0;
        long agree = 0;
        long labelled = 0;
        for (int i = 0; i < xs.length; i++) {
            Row r = test.get(i);
            int p = q.predict(xs[i]);
            int f = Evaluation.argmax(java.util.Arrays.copyOfRange(fp32, i * c, (i + 1) * c));
            agree += p == f ? 1 : 0;
            if (!r.isNullAt(1)) {
                labelled++;
                correct += p == r.getInt(1) ? 1 : 0;
            }
        }
        m.put("file", file);
        m.put("file_bytes", ctx.workspace.size(file));
        m.put("test_rows", test.size());
        m.put("test_accuracy", labelled == 0 ? null : (double) correct / labelled);
        String versus = trainedQuantised ? "fake-quantised student" : "fp32 student";
        m.put(trainedQuantised ? "agreement_with_fake_quantised_student" : "agreement_with_fp32_student",
                test.isEmpty() ? null : (double) agree / test.size());
        LOG.info(String.format("export: wrote %s (%,d bytes): int8 runtime test accuracy %.2f%%, agrees with the"
                + " %s on %.2f%% of test rows", file, ctx.workspace.size(file),
                labelled == 0 ? Double.NaN : 100.0 * correct / labelled, versus, 100.0 * agree / Math.max(1, test.size())));
        return m;
    }
}
