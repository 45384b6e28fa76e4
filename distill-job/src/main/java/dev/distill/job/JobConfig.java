package dev.distill.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.distill.settings.Problem;
import dev.distill.settings.SettingsException;
import dev.distill.settings.UnknownKeys;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads a job's configuration with the precedence of DESIGN §8: {@code -Dkey=value} (on the command line or
 * as JVM system properties) over the job file over every module's {@code reference.conf}. Keys under
 * {@code kd} that no module reads are reported, with file and line, as errors. The job file is found the ways
 * Spark users pass files ({@link JobFile}).
 */
public final class JobConfig {
    /** Paths whose contents are passed through unchecked. */
    static final Set<String> OPEN_PATHS = Set.of("kd.spark.conf");

    private JobConfig() {
    }

    /** The merged configuration, the unknown keys found in it (reported with all other problems), the file. */
    public record Loaded(Config config, List<Problem> unknownKeys, JobFile jobFile) {
        public Loaded(Config config, List<Problem> unknownKeys) {
            this(config, unknownKeys, null);
        }
    }

    public static Loaded load(File jobFile, Map<String, String> overrides) {
        return load(jobFile.getPath(), overrides);
    }

    /** Loads the job file named {@code jobFile} (see {@link JobFile#locate}) with {@code overrides} on top. */
    public static Loaded load(String jobFile, Map<String, String> overrides) {
        List<Problem> problems = new ArrayList<>();
        for (String key : overrides.keySet()) {
            if (!key.equals("kd") && !key.startsWith("kd.")) {
                problems.add(new Problem("-D" + key, "command line", null, "not a job setting: job settings start with"
                        + " kd. (Spark settings go in kd.spark.conf, or to spark-submit as --conf key=value)"));
            }
        }
        JobFile located = JobFile.locate(jobFile);
        Config file;
        try {
            file = located.parse();
        } catch (ConfigException e) {
            throw new SettingsException(new Problem("job file", "", located.name(), "cannot parse: " + e.getMessage()));
        }
        // Not defaultReference(): it merges system properties in, so a misspelled -D JVM property would look known.
        Config reference = ConfigFactory.defaultReferenceUnresolved().resolve();
        problems.addAll(topLevelKeys(file, located.name(), reference.getConfig("kd").root().keySet()));
        Config cli = ConfigFactory.empty();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            if (e.getKey().equals("kd") || e.getKey().startsWith("kd.")) {
                try {
                    cli = parseOverride(e.getKey(), e.getValue()).withFallback(cli);
                } catch (ConfigException ex) {
                    problems.add(new Problem(e.getKey(), "command line -D" + e.getKey(), e.getValue(),
                            "cannot parse: " + ex.getMessage()));
                }
            }
        }
        Config sys = ConfigFactory.systemProperties();
        sys = sys.hasPath("kd") ? sys.withOnlyPath("kd") : ConfigFactory.empty();
        problems.addAll(UnknownKeys.find(file, reference, "kd", OPEN_PATHS));
        problems.addAll(UnknownKeys.find(cli, reference, "kd", OPEN_PATHS));
        problems.addAll(UnknownKeys.find(sys, reference, "kd", OPEN_PATHS));
        Config merged;
        try {
            merged = cli.withFallback(sys).withFallback(file).withFallback(reference).resolve();
        } catch (ConfigException e) {
            problems.add(new Problem("job file", "", located.name(), "cannot resolve: " + e.getMessage()));
            throw new SettingsException(problems);
        }
        return new Loaded(merged, List.copyOf(problems), located);
    }

    /**
     * Top-level keys of a job file other than {@code kd} are allowed (HOCON variables for substitutions), but
     * not when they look like a mistake: a file that sets nothing under {@code kd} (a misspelled {@code kdd {}
     * would leave the defaults to run), or a top-level key named like one of kd's sections ({@code kdSections},
     * the keys under kd in the reference configuration).
     */
    static List<Problem> topLevelKeys(Config file, String name, Set<String> kdSections) {
        List<Problem> out = new ArrayList<>();
        for (var e : file.root().entrySet()) {
            String key = e.getKey();
            if (key.equals("kd")) {
                continue;
            }
            String origin = dev.distill.settings.Origins.describe(e.getValue().origin());
            if (kdSections.contains(key)) {
                out.add(new Problem(key, origin, null, "a top-level key is not a job setting; did you mean kd." + key
                        + "? (job settings go under kd { ... })"));
            } else if (UnknownKeys.editDistance(key, "kd") <= 1 && !file.hasPath("kd")) {
                out.add(new Problem(key, origin, null, "a top-level key is not a job setting; did you mean kd?"
                        + " (job settings go under kd { ... })"));
            }
        }
        if (!file.hasPath("kd") && out.isEmpty() && !file.root().isEmpty()) {
            out.add(new Problem("job file", "", name, "sets nothing under kd (its top-level keys: "
                    + String.join(", ", new java.util.TreeSet<>(file.root().keySet())) + "); job settings go under"
                    + " kd { ... }"));
        }
        return out;
    }

    /**
     * {@code -Dkey=value}: the value is taken literally, as the string it is (Typesafe Config reads "3" as a
     * number and "true" as a boolean where one is expected), so {@code #}, {@code //}, {@code :} and spaces
     * are part of it, as a shell user means. Only a number, {@code true} or {@code false}, a whole list
     * {@code [...]}, a whole object {@code {...}} or a quoted string {@code "..."} (so {@code ""} is the empty
     * string) is parsed as HOCON.
     */
    static Config parseOverride(String key, String value) {
        String origin = "command line -D" + key;
        String v = value.strip();
        boolean structured = (v.startsWith("[") && v.endsWith("]")) || (v.startsWith("{") && v.endsWith("}"))
                || (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\""))
                || v.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?|true|false");
        if (structured) {
            Config c = ConfigFactory.parseString("value = " + v, ConfigParseOptions.defaults().setOriginDescription(origin));
            return ConfigFactory.empty(origin).withValue(key, c.getValue("value").withOrigin(
                    ConfigFactory.empty(origin).origin()));
        }
        return ConfigFactory.empty(origin).withValue(key, ConfigValueFactory.fromAnyRef(value, origin));
    }
}
