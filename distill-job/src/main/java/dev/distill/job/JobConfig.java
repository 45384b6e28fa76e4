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
 * {@code kd} that no module reads are reported, with file and line, as errors.
 */
public final class JobConfig {
    /** Paths whose contents are passed through unchecked. */
    static final Set<String> OPEN_PATHS = Set.of("kd.spark.conf");

    private JobConfig() {
    }

    /** The merged configuration and the unknown keys found in it (reported with all other problems). */
    public record Loaded(Config config, List<Problem> unknownKeys) {
    }

    public static Loaded load(File jobFile, Map<String, String> overrides) {
        if (!jobFile.isFile()) {
            throw new SettingsException(new Problem("job file", "", jobFile.getPath(),
                    "no such file; pass a HOCON job file such as conf/fashion-mnist.conf"));
        }
        Config file;
        try {
            file = ConfigFactory.parseFile(jobFile, ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException e) {
            throw new SettingsException(new Problem("job file", "", jobFile.getPath(), "cannot parse: " + e.getMessage()));
        }
        Config cli = ConfigFactory.empty();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            cli = parseOverride(e.getKey(), e.getValue()).withFallback(cli);
        }
        Config sys = ConfigFactory.systemProperties();
        sys = sys.hasPath("kd") ? sys.withOnlyPath("kd") : ConfigFactory.empty();
        Config reference = ConfigFactory.defaultReference();
        List<Problem> problems = new ArrayList<>();
        problems.addAll(UnknownKeys.find(file, reference, "kd", OPEN_PATHS));
        problems.addAll(UnknownKeys.find(cli, reference, "kd", OPEN_PATHS));
        problems.addAll(UnknownKeys.find(sys, reference, "kd", OPEN_PATHS));
        Config merged;
        try {
            merged = cli.withFallback(sys).withFallback(file).withFallback(reference).resolve();
        } catch (ConfigException e) {
            problems.add(new Problem("job file", "", jobFile.getPath(), "cannot resolve: " + e.getMessage()));
            throw new SettingsException(problems);
        }
        return new Loaded(merged, List.copyOf(problems));
    }

    /** Parses {@code key=value} as HOCON so numbers stay numbers; falls back to a plain string. */
    static Config parseOverride(String key, String value) {
        String origin = "command line -D" + key;
        try {
            Config c = ConfigFactory.parseString(key + " = " + value,
                    ConfigParseOptions.defaults().setOriginDescription(origin));
            if (c.hasPath(key)) {
                return c;
            }
        } catch (ConfigException ignored) {
            // not HOCON: take it as a string
        }
        return ConfigFactory.empty(origin).withValue(key, ConfigValueFactory.fromAnyRef(value, origin));
    }
}
