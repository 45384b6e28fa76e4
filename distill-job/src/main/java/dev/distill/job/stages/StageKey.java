package dev.distill.job.stages;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.distill.datasets.Sha256;
import dev.distill.job.JobContext;
import dev.distill.job.Json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a stage's outputs are made from, as named parts (a setting section, an input file, an earlier
 * stage's record), each a SHA-256. Recorded as {@code stage_key} in the stage's provenance; {@code run}
 * skips a stage whose outputs are complete and whose recorded key equals the current one, and names the
 * parts that changed when it does not. Parts chain: a later stage's key holds an earlier stage's recorded
 * key (or its model file's hash), so a change reaches every stage after it.
 */
public record StageKey(Map<String, String> parts) {
    /** The field of a provenance record that holds the key. */
    public static final String FIELD = "stage_key";

    public StageKey {
        parts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parts));
    }

    /** A key built part by part, in the order they are named in messages. */
    public static Builder builder() {
        return new Builder();
    }

    /** The key recorded in a provenance JSON file, or null when there is none. */
    @SuppressWarnings("unchecked")
    public static StageKey recorded(JobContext ctx, String jsonFile) {
        if (!ctx.workspace().exists(jsonFile)) {
            return null;
        }
        Object k = Json.read(ctx.workspace().readString(jsonFile)).get(FIELD);
        return k instanceof Map<?, ?> m ? new StageKey((Map<String, String>) m) : null;
    }

    /** Names of the parts that differ from {@code recorded} (added, removed or changed), current ones first. */
    public List<String> changedSince(StageKey recorded) {
        List<String> out = new ArrayList<>();
        for (var e : parts.entrySet()) {
            if (recorded == null || !e.getValue().equals(recorded.parts.get(e.getKey()))) {
                out.add(e.getKey());
            }
        }
        if (recorded != null) {
            for (String k : recorded.parts.keySet()) {
                if (!parts.containsKey(k)) {
                    out.add(k);
                }
            }
        }
        return out;
    }

    /** One hash of all parts: what a later stage's key holds of this one. */
    public String digest() {
        return Sha256.of(new TreeMap<>(parts).toString());
    }

    /** Builds a key from setting sections, file hashes and other keys. */
    public static final class Builder {
        private final Map<String, String> parts = new LinkedHashMap<>();

        /** A part that is already a hash (or a fixed word such as "missing"). */
        public Builder part(String name, String hash) {
            parts.put(name, hash);
            return this;
        }

        /** The setting sections (or values) at {@code paths}, under one name listing them. */
        public Builder settings(JobContext ctx, String... paths) {
            StringBuilder b = new StringBuilder();
            for (String p : paths) {
                b.append(section(ctx.settings().config(), p));
            }
            return part(String.join(", ", paths), paths.length == 1 ? b.toString() : Sha256.of(b.toString()));
        }

        /** The file at {@code path} by its content, or "missing". */
        public Builder file(JobContext ctx, String name, String path) {
            return part(name, ctx.workspace().exists(path) ? ctx.workspace().sha256(path) : "missing");
        }

        /** The key recorded in an earlier stage's provenance file, or "missing". */
        public Builder recorded(JobContext ctx, String name, String jsonFile) {
            StageKey k = StageKey.recorded(ctx, jsonFile);
            return part(name, k == null ? "missing" : k.digest());
        }

        /** The identity of both splits of the data set ({@code kd.dataset}, source paths and sizes). */
        public Builder data(JobContext ctx) {
            return part("kd.dataset", Sha256.of(ctx.dataKey("train") + ctx.dataKey("test")));
        }

        public StageKey build() {
            return new StageKey(parts);
        }
    }

    /** A setting section (or value) rendered with its keys sorted, hashed; "unset" when absent. */
    public static String section(Config config, String path) {
        if (!config.hasPathOrNull(path)) {
            return "unset";
        }
        return Sha256.of(canonical(config.getValue(path)));
    }

    /** Typesafe Config keeps insertion order when rendering; the key must not depend on how a file is laid out. */
    private static String canonical(ConfigValue v) {
        if (v instanceof ConfigObject o) {
            StringBuilder b = new StringBuilder("{");
            for (String key : new TreeSet<>(o.keySet())) {
                b.append('"').append(key).append("\":").append(canonical(o.get(key))).append(',');
            }
            return b.append('}').toString();
        }
        if (v instanceof ConfigList l) {
            StringBuilder b = new StringBuilder("[");
            for (ConfigValue e : l) {
                b.append(canonical(e)).append(',');
            }
            return b.append(']').toString();
        }
        return v.render(ConfigRenderOptions.concise());
    }
}
