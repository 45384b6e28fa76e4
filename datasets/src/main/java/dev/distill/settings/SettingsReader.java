package dev.distill.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reads typed values from one section of a {@link Config}, recording a {@link Problem} instead of throwing
 * on the first bad value, so that every problem in a job file is reported at once. Getters return a
 * harmless placeholder after recording a problem; callers finish reading, then call {@link #throwIfAny()}.
 *
 * <p>Defaults live only in each module's {@code reference.conf}: a getter never supplies one.
 */
public final class SettingsReader {
    private final Config config;
    private final String prefix;
    private final List<Problem> problems;
    /** A stand-in for a section that was not an object (already reported): its missing keys are not reported. */
    private final boolean standIn;

    private SettingsReader(Config config, String prefix, List<Problem> problems) {
        this(config, prefix, problems, false);
    }

    private SettingsReader(Config config, String prefix, List<Problem> problems, boolean standIn) {
        this.config = config;
        this.prefix = prefix;
        this.problems = problems;
        this.standIn = standIn;
    }

    /** A reader over {@code config.getConfig(path)} whose keys are reported as {@code path.key}. */
    public static SettingsReader of(Config config, String path) {
        return new SettingsReader(config.getConfig(path), path, new ArrayList<>());
    }

    /** A reader for a sub-section sharing this reader's problem list. */
    public SettingsReader section(String key) {
        String full = fullKey(key);
        if (standIn) {
            return new SettingsReader(com.typesafe.config.ConfigFactory.empty(), full, problems, true);
        }
        try {
            return new SettingsReader(config.getConfig(key), full, problems);
        } catch (ConfigException.Missing e) {
            problems.add(new Problem(full, "", null, "missing section"));
        } catch (ConfigException.WrongType e) {
            problems.add(new Problem(full, origin(key), render(key), "must be an object { ... }"));
        }
        // The one problem above says it all: the stand-in reports nothing of its own.
        return new SettingsReader(com.typesafe.config.ConfigFactory.empty(), full, problems, true);
    }

    /** A reader over an arbitrary object (an element of a list) reported under {@code displayKey}. */
    public SettingsReader over(Config element, String displayKey) {
        return new SettingsReader(element, displayKey, problems);
    }

    public Config config() {
        return config;
    }

    public String prefix() {
        return prefix;
    }

    public String fullKey(String key) {
        return prefix.isEmpty() ? key : prefix + "." + key;
    }

    public boolean has(String key) {
        return config.hasPath(key);
    }

    /** True when {@code key} was set by the job file, the command line or a system property, not by a default. */
    public boolean setByUser(String key) {
        if (!config.hasPathOrNull(key)) {
            return false;
        }
        String description = config.getValue(key).origin().description();
        return !description.contains("reference.conf");
    }

    public List<Problem> problems() {
        return problems;
    }

    /** Records a problem about {@code key} (relative to this section), with its origin and current value. */
    public void problem(String key, String message) {
        problems.add(new Problem(fullKey(key), origin(key), render(key), message));
    }

    public void throwIfAny() {
        if (!problems.isEmpty()) {
            throw new SettingsException(problems);
        }
    }

    public String origin(String key) {
        try {
            ConfigValue v = config.hasPathOrNull(key) ? config.getValue(key) : null;
            return v == null ? Origins.describe(config.origin()) : Origins.describe(v.origin());
        } catch (ConfigException e) {
            return "";
        }
    }

    private String render(String key) {
        try {
            if (!config.hasPathOrNull(key)) {
                return null;
            }
            if (config.getIsNull(key)) {
                return "null";
            }
            return config.getValue(key).render(com.typesafe.config.ConfigRenderOptions.concise());
        } catch (ConfigException e) {
            return null;
        }
    }

    private boolean present(String key) {
        if (!config.hasPathOrNull(key)) {
            if (standIn) {
                return false;
            }
            problems.add(new Problem(fullKey(key), Origins.describe(config.origin()), null,
                    "missing; set it in the job file or with -D" + fullKey(key) + "=..."));
            return false;
        }
        return true;
    }

    public String string(String key) {
        if (!present(key)) {
            return "";
        }
        try {
            ConfigValue v = config.getValue(key);
            if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
                problem(key, "must be a string");
                return "";
            }
            return config.getString(key);
        } catch (ConfigException e) {
            problem(key, "must be a string");
            return "";
        }
    }

    /** A string that must be one of {@code allowed} (compared case-insensitively, returned lower-case). */
    public String oneOf(String key, String... allowed) {
        String v = string(key);
        String lower = v.toLowerCase(Locale.ROOT);
        if (!config.hasPath(key)) {
            return allowed[0];
        }
        if (!Arrays.asList(allowed).contains(lower)) {
            problem(key, "must be one of " + String.join(", ", allowed));
            return allowed[0];
        }
        return lower;
    }

    public boolean bool(String key) {
        if (!present(key)) {
            return false;
        }
        try {
            return config.getBoolean(key);
        } catch (ConfigException.WrongType e) {
            problem(key, "must be true or false");
            return false;
        }
    }

    /** An integer in [min, max]. */
    public int integer(String key, int min, int max) {
        if (!present(key)) {
            return min;
        }
        long v;
        try {
            v = config.getLong(key);
            double d = config.getDouble(key);
            if (d != Math.rint(d)) {
                problem(key, "must be a whole number " + range(min, max));
                return min;
            }
        } catch (ConfigException.WrongType e) {
            problem(key, "must be an integer " + range(min, max));
            return min;
        }
        if (v < min || v > max) {
            problem(key, "must be an integer " + range(min, max));
            return min;
        }
        return (int) v;
    }

    private static String range(long min, long max) {
        if (max == Integer.MAX_VALUE) {
            return ">= " + min;
        }
        return "in [" + min + ", " + max + "]";
    }

    /** A number strictly greater than zero. */
    public double positive(String key) {
        return number(key, 0, false, Double.POSITIVE_INFINITY, "a number > 0");
    }

    /** A number in [0, 1]. */
    public double fraction(String key) {
        return number(key, 0, true, 1, "a number in [0, 1]");
    }

    /** A number in [min, max]. */
    public double numberIn(String key, double min, double max) {
        return number(key, min, true, max, "a number in [" + min + ", " + max + "]");
    }

    private double number(String key, double min, boolean minInclusive, double max, String what) {
        if (!present(key)) {
            return Math.max(min, Double.MIN_VALUE);
        }
        double v;
        try {
            v = config.getDouble(key);
        } catch (ConfigException.WrongType e) {
            problem(key, "must be " + what);
            return Math.max(min, Double.MIN_VALUE);
        }
        boolean ok = !Double.isNaN(v) && (minInclusive ? v >= min : v > min) && v <= max;
        if (!ok) {
            problem(key, "must be " + what);
            return Math.max(min, Double.MIN_VALUE);
        }
        return v;
    }

    public List<Integer> intList(String key, int min) {
        if (!present(key)) {
            return List.of();
        }
        try {
            List<Integer> values = config.getIntList(key);
            for (int v : values) {
                if (v < min) {
                    problem(key, "every element must be an integer >= " + min);
                    return List.of();
                }
            }
            return values;
        } catch (ConfigException.WrongType e) {
            problem(key, "must be a list of integers, for example [1, 28, 28]");
            return List.of();
        }
    }

    public List<Double> doubleList(String key) {
        if (!present(key)) {
            return List.of();
        }
        try {
            return config.getDoubleList(key);
        } catch (ConfigException.WrongType e) {
            problem(key, "must be a list of numbers, for example [0.5, 0.5, 0.5]");
            return List.of();
        }
    }

    public List<String> stringList(String key) {
        if (!present(key)) {
            return List.of();
        }
        try {
            return config.getStringList(key);
        } catch (ConfigException.WrongType e) {
            problem(key, "must be a list of strings");
            return List.of();
        }
    }

    public List<? extends Config> configList(String key) {
        if (!present(key)) {
            return List.of();
        }
        try {
            return config.getConfigList(key);
        } catch (ConfigException.WrongType e) {
            problem(key, "must be a list of objects [ { ... }, { ... } ]");
            return List.of();
        }
    }
}
