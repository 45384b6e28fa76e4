package dev.distill.job;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * export: copies the trained student to {@code export/student.zip} (a DL4J model zip) with
 * {@code export/provenance.json}: resolved configuration, data paths and row counts, teacher SHA-256,
 * seeds, versions, and the student's own SHA-256.
 */
final class Export {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    private Export() {
    }

    static String run(JobContext ctx) {
        String model = ctx.workspace.model("student");
        if (!ctx.workspace.exists(model)) {
            throw new IllegalArgumentException("student model not found: " + model
                    + "; run `distill train-student <job.conf>` first");
        }
        var info = Stages.checkSoftLabels(ctx, "train");
        var testInfo = Stages.checkSoftLabels(ctx, "test");
        String target = ctx.workspace.path("export", "student.zip");
        ctx.workspace.copy(model, target);
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("model_file", target);
        facts.put("model_sha256", ctx.workspace.sha256(target));
        facts.put("model_file_bytes", ctx.workspace.size(target));
        facts.put("teacher_sha256", info.metadata().teacherSha256());
        facts.put("teacher_id", info.metadata().teacherId());
        facts.put("soft_label_rows", Map.of("train", info.rows(), "test", testInfo.rows()));
        facts.put("input_shape", info.metadata().inputShape());
        facts.put("normalisation", info.metadata().normalisation());
        facts.put("seeds", Map.of("student", ctx.settings.student().training().seed(),
                "teacher", ctx.settings.teacher().training().seed(),
                "split", ctx.settings.dataset().splitSeed()));
        String softLabelProvenance = ctx.workspace.path("soft-labels", "provenance.json");
        if (ctx.workspace.exists(softLabelProvenance)) {
            facts.put("normalisation_parameters", Json.read(ctx.workspace.readString(softLabelProvenance)).get("normalisation"));
        }
        Provenance.write(ctx, "export", facts);
        LOG.info("export: wrote {} and {}", target, ctx.workspace.path("export", "provenance.json"));
        return target;
    }
}
