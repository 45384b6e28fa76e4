package dev.distill.job;

import dev.distill.job.stages.StageKey;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code <folder>/provenance.json} beside every artifact: the stage, the time, the job file, the data
 * paths, the stage's own facts (row counts, hashes, seeds, parameter counts), the key its outputs were
 * made from, versions of everything that can change the numbers, the Spark master and application id, and
 * the fully resolved configuration.
 */
public final class Provenance {
    /** The record's file name in each stage's folder. */
    public static final String FILE = "provenance.json";
    /** The field that holds the SHA-256 of each output file the stage wrote, by path relative to the output folder. */
    public static final String OUTPUTS = "outputs_sha256";

    private Provenance() {
    }

    /** The record of {@code stage}: common fields around {@code facts} (a record or a map) and {@code key}. */
    public static Map<String, Object> of(JobContext ctx, String stage, Object facts, StageKey key) {
        return of(ctx, stage, facts, key, null);
    }

    /** As above, with the hashes of the stage's output files (or null). */
    public static Map<String, Object> of(JobContext ctx, String stage, Object facts, StageKey key,
                                         Map<String, String> outputs) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("stage", stage);
        p.put("created_at", Instant.now().toString());
        p.put("job_file", ctx.jobFile());
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("format", ctx.settings().dataset().format());
        data.put("train", ctx.settings().dataset().train());
        data.put("test", ctx.settings().dataset().test());
        if (!ctx.classNames().isEmpty()) {
            data.put("class_names", ctx.classNames());
        }
        p.put("data", data);
        if (facts != null) {
            p.putAll(Json.fields(facts));
        }
        if (key != null) {
            p.put(StageKey.FIELD, key.parts());
        }
        if (outputs != null && !outputs.isEmpty()) {
            p.put(OUTPUTS, outputs);
        }
        p.put("versions", JobContext.versions());
        p.put("spark_master", ctx.spark().sparkContext().master());
        p.put("spark_application_id", ctx.spark().sparkContext().applicationId());
        p.put("config", Json.read(ctx.settings().resolvedJson()));
        return p;
    }

    /** Writes {@code <folder>/provenance.json} atomically. */
    public static void write(JobContext ctx, String folder, Object facts, StageKey key) {
        write(ctx, folder, facts, key, null);
    }

    /** As above, with the hashes of the stage's output files. */
    public static void write(JobContext ctx, String folder, Object facts, StageKey key, Map<String, String> outputs) {
        Workspace w = ctx.workspace();
        w.writeString(w.path(folder, FILE), Json.write(of(ctx, folder, facts, key, outputs)));
    }
}
