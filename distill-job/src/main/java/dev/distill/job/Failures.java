package dev.distill.job;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a failure, often wrapped several times by Spark, into the one line a user needs: the message of
 * the innermost exception that has one, or, when an executor's exception arrived only as text inside a
 * {@code SparkException}, the message extracted from that text.
 */
final class Failures {
    private static final Pattern REMOTE = Pattern.compile(
            "(?:[a-zA-Z_$][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error): ([^\\n]+)");

    private Failures() {
    }

    static String oneLine(Throwable e) {
        Throwable best = e;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                best = t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        String msg = best.getMessage();
        if (msg == null || msg.isBlank()) {
            return best.getClass().getSimpleName();
        }
        if (best.getClass().getName().startsWith("org.apache.spark")) {
            Matcher m = REMOTE.matcher(msg);
            String last = null;
            while (m.find()) {
                last = m.group(1);
            }
            if (last != null) {
                return last.trim();
            }
        }
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }
}
