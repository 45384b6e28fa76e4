package dev.distill.job;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a failure, often wrapped several times by Spark, into the one line a user needs. Starting from the
 * innermost message, an outer exception's message replaces it when it contains it and adds to it (most often
 * the file it was reading: "cannot read x.csv.gz: Unexpected end of input stream" rather than the bare cause);
 * Spark's own wrappers, which repeat the whole stack trace, are passed over. An executor's exception that
 * arrived only as text inside a {@code SparkException} is read out of that text the same way.
 */
final class Failures {
    private static final Pattern REMOTE = Pattern.compile(
            "(?:[a-zA-Z_$][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error): ([^\\n]+)");

    private Failures() {
    }

    /** Set when the JVM starts shutting down (SIGTERM, Ctrl-C): failures after that are the interruption's. */
    static volatile boolean shuttingDown;

    static String oneLine(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        if (shuttingDown) {
            return "interrupted: the process was asked to stop (SIGTERM or Ctrl-C); outputs of finished stages are"
                    + " kept, the stage that was running resumes or restarts on the next run";
        }
        for (Throwable t : chain) {
            if (t instanceof OutOfMemoryError || (t.getMessage() != null && t.getMessage().contains("java.lang.OutOfMemoryError"))) {
                String what = firstLine(t.getMessage());
                return "out of memory (" + (what == null ? "OutOfMemoryError" : what.replaceAll(".*OutOfMemoryError: ", ""))
                        + "): give the JVM more (DISTILL_HEAP for bin/distill; spark.driver.memory and"
                        + " spark.executor.memory with spark-submit), or use smaller batches";
            }
        }
        for (Throwable t : chain) {
            String msg = firstLine(t.getMessage());
            // A class of ours or of a library that cannot be found (not one whose static initialiser failed:
            // "Could not initialize class ...", which the general rule below reports).
            if ((t instanceof NoClassDefFoundError || t instanceof ClassNotFoundException) && msg != null
                    && !msg.startsWith("Could not initialize")) {
                return "class " + msg.replace('/', '.') + " cannot be loaded (" + t.getClass().getSimpleName()
                        + "): the program's files changed while this run was going (a rebuild or an upgrade?) or its"
                        + " class path is incomplete; rerun, and finished stages are kept";
            }
        }
        String best = null;
        for (int i = chain.size() - 1; i >= 0; i--) {
            Throwable t = chain.get(i);
            String msg = firstLine(t.getMessage());
            if (msg == null) {
                continue;
            }
            if (isWrapper(t)) {
                if (best == null) {
                    best = fromText(t.getMessage());
                }
                continue;
            }
            if (best == null || msg.contains(best)) {
                best = msg;
            }
        }
        return best != null ? best : chain.get(chain.size() - 1).getClass().getSimpleName();
    }

    /** Spark's wrappers and the JDK's, whose messages repeat a stack trace or just name their cause. */
    private static boolean isWrapper(Throwable t) {
        String name = t.getClass().getName();
        return name.startsWith("org.apache.spark.") || t instanceof java.util.concurrent.ExecutionException
                || t instanceof java.util.concurrent.CompletionException
                || t instanceof java.lang.reflect.InvocationTargetException;
    }

    /** The exception reported inside a wrapper's text, outer messages winning when they contain inner ones. */
    private static String fromText(String text) {
        Matcher m = REMOTE.matcher(text);
        List<String> found = new ArrayList<>();
        while (m.find()) {
            found.add(m.group(1).trim());
        }
        String best = null;
        for (int i = found.size() - 1; i >= 0; i--) {
            if (best == null || found.get(i).contains(best)) {
                best = found.get(i);
            }
        }
        return best != null ? best : firstLine(text);
    }

    private static String firstLine(String msg) {
        if (msg == null || msg.isBlank()) {
            return null;
        }
        int nl = msg.indexOf('\n');
        return (nl < 0 ? msg : msg.substring(0, nl)).strip();
    }
}
