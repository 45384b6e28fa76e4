package dev.distill.settings;

import com.typesafe.config.ConfigOrigin;

/** Renders a {@link ConfigOrigin} as {@code file:line} where there is a file, else its description. */
public final class Origins {
    private Origins() {
    }

    public static String describe(ConfigOrigin origin) {
        if (origin == null) {
            return "";
        }
        String file = origin.filename();
        if (file != null) {
            return origin.lineNumber() > 0 ? file + ":" + origin.lineNumber() : file;
        }
        String description = origin.description().replaceFirst(": \\d+$", "");
        if (description.equals("String")) {
            return "";
        }
        if (description.startsWith("system properties")) {
            return "system properties";
        }
        if (description.contains("reference.conf")) {
            return "defaults (reference.conf)";
        }
        // A file read from a URI (a job file on HDFS or S3) is parsed from text: the description names it.
        return origin.lineNumber() > 0 && !description.startsWith("command line") ? description + ":"
                + origin.lineNumber() : description;
    }
}
