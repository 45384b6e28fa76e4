package dev.distill.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;

import dev.distill.datasets.Sha256;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each stage's output is made from, as named parts (a setting section, an input file, the previous
 * stage's output), each a SHA-256. Every stage records its parts in its provenance ({@code stage_key});
 * {@code run} skips a stage whose outputs are complete and whose recorded parts equal the current ones, and
 * names the parts that changed when they do not. Parts chain: the soft labels' part is the label stage's
 * key, the student's model file is hashed for export and evaluation.
 */
final class StageKeys {
    static final String KEY = "stage_key";

    private StageKeys() {
    }

    /** train-teacher: its architecture and training settings, and the data. */
    static Map<String, String> teacher(JobContext ctx) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("kd.teacher.architecture", section(ctx, "kd.teacher.architecture"));
        k.put("kd.teacher.training", section(ctx, "kd.teacher.training"));
        k.put("kd.dataset", data(ctx));
        return k;
    }

    /** label: the teacher's model file, how it is run, how soft labels are stored, and the data. */
    static Map<String, String> label(JobContext ctx, String teacherSha256) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("teacher model", teacherSha256);
        k.put("kd.teacher.format, kd.teacher.onnx", hash(section(ctx, "kd.teacher.format") + section(ctx, "kd.teacher.onnx")));
        k.put("kd.soft-labels.store, kd.soft-labels.k",
                hash(section(ctx, "kd.soft-labels.store") + section(ctx, "kd.soft-labels.k")));
        k.put("kd.dataset", data(ctx));
        return k;
    }

    /** train-student: the soft labels (the label stage's key) and every student setting. */
    static Map<String, String> student(JobContext ctx) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("soft labels", recordedHash(ctx, ctx.workspace.path("soft-labels", "provenance.json")));
        k.put("kd.student", section(ctx, "kd.student"));
        String init = ctx.settings.student().initFrom();
        if (!init.isEmpty()) {
            k.put("kd.student.architecture.init-from model", ctx.workspace.exists(init) ? ctx.workspace.sha256(init) : "missing");
        }
        return k;
    }

    /** export: the student's model file and its settings (quantisation decides the int8 file). */
    static Map<String, String> export(JobContext ctx) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("student model", fileHash(ctx, ctx.workspace.model("student")));
        k.put("kd.student", section(ctx, "kd.student"));
        return k;
    }

    /** evaluate: every model and file it measures, and the soft labels of the test split. */
    static Map<String, String> evaluate(JobContext ctx, String teacherModel) {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("teacher model", fileHash(ctx, teacherModel));
        k.put("soft labels", recordedHash(ctx, ctx.workspace.path("soft-labels", "provenance.json")));
        k.put("student model", fileHash(ctx, ctx.workspace.model("student")));
        k.put("baseline model", ctx.settings.student().baseline() ? fileHash(ctx, ctx.workspace.model("baseline")) : "none");
        k.put("exported files", hash(fileHash(ctx, ctx.workspace.path("export", "student.int8"))
                + fileHash(ctx, ctx.workspace.path("export", "student.onnx"))));
        return k;
    }

    /** The parts recorded in a provenance or report JSON file, or null when there is none. */
    @SuppressWarnings("unchecked")
    static Map<String, String> recorded(JobContext ctx, String jsonFile) {
        if (!ctx.workspace.exists(jsonFile)) {
            return null;
        }
        Object k = Json.read(ctx.workspace.readString(jsonFile)).get(KEY);
        return k instanceof Map<?, ?> m ? (Map<String, String>) m : null;
    }

    /** Names of the parts that differ (added, removed or changed), in the current order. */
    static List<String> changed(Map<String, String> recorded, Map<String, String> current) {
        List<String> out = new ArrayList<>();
        for (var e : current.entrySet()) {
            if (recorded == null || !e.getValue().equals(recorded.get(e.getKey()))) {
                out.add(e.getKey());
            }
        }
        if (recorded != null) {
            for (String k : recorded.keySet()) {
                if (!current.containsKey(k)) {
                    out.add(k);
                }
            }
        }
        return out;
    }

    /** One hash of all recorded parts (what a later stage depends on), or "missing". */
    private static String recordedHash(JobContext ctx, String jsonFile) {
        Map<String, String> k = recorded(ctx, jsonFile);
        return k == null ? "missing" : hash(new TreeMap<>(k).toString());
    }

    private static String fileHash(JobContext ctx, String path) {
        return ctx.workspace.exists(path) ? ctx.workspace.sha256(path) : "missing";
    }

    private static String data(JobContext ctx) {
        return hash(ctx.dataKey("train") + ctx.dataKey("test"));
    }

    /** A setting section (or value) rendered with its keys sorted, hashed; "unset" when absent. */
    static String section(JobContext ctx, String path) {
        return section(ctx.settings.config(), path);
    }

    static String section(Config config, String path) {
        if (!config.hasPathOrNull(path)) {
            return "unset";
        }
        return hash(canonical(config.getValue(path)));
    }

    /** Typesafe Config keeps insertion order when rendering; the key must not depend on how a file is laid out. */
    private static String canonical(ConfigValue v) {
        if (v instanceof com.typesafe.config.ConfigObject o) {
            StringBuilder b = new StringBuilder("{");
            for (String key : new java.util.TreeSet<>(o.keySet())) {
                b.append('"').append(key).append("\":").append(canonical(o.get(key))).append(',');
            }
            return b.append('}').toString();
        }
        if (v instanceof com.typesafe.config.ConfigList l) {
            StringBuilder b = new StringBuilder("[");
            for (ConfigValue e : l) {
                b.append(canonical(e)).append(',');
            }
            return b.append(']').toString();
        }
        return v.render(ConfigRenderOptions.concise());
    }

    static String hash(String s) {
        return Sha256.of(s);
    }
}
