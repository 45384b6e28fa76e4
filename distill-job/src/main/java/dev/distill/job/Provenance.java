package dev.distill.job;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code <stage>/provenance.json} beside every artifact: the job file, the fully resolved configuration,
 * the data paths, versions of everything that can change the numbers, the time, and stage facts (row
 * counts, teacher hash, seeds, parameter counts).
 */
final class Provenance {
    private Provenance() {
    }

    static Map<String, Object> of(JobContext ctx, String stage, Map<String, Object> facts) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("stage", stage);
        p.put("created_at", Instant.now().toString());
        p.put("job_file", ctx.jobFile);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("format", ctx.settings.dataset().format());
        data.put("train", ctx.settings.dataset().train());
        data.put("test", ctx.settings.dataset().test());
        p.put("data", data);
        p.putAll(facts);
        p.put("versions", JobContext.versions());
        p.put("spark_master", ctx.spark.sparkContext().master());
        p.put("config", Json.read(ctx.settings.resolvedJson()));
        return p;
    }

    static void write(JobContext ctx, String stage, Map<String, Object> facts) {
        ctx.workspace.writeString(ctx.workspace.path(stage, "provenance.json"), Json.write(of(ctx, stage, facts)));
    }
}
