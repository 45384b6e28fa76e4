package dev.distill.datasets;

import java.util.ArrayList;
import java.util.List;

/**
 * The CSV this project reads, plain Java (the executors' parser, and the driver's look at a header): fields
 * separated by one delimiter character, optionally in double quotes (a quote inside a quoted field is
 * doubled); numbers in plain decimal notation, which must be finite. Every problem is an
 * {@link IllegalArgumentException} whose message says what is wrong and what is valid; callers put the file,
 * line and column in front.
 */
public final class CsvFormat {
    /** Plain decimal numbers: optional sign, digits with an optional point, optional exponent. */
    private static final java.util.regex.Pattern NUMBER =
            java.util.regex.Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private CsvFormat() {
    }

    /** The fields of one line (without its line break). */
    public static List<String> fields(String line, char delimiter) {
        List<String> out = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int i = 0;
        int n = line.length();
        while (true) {
            field.setLength(0);
            if (i < n && line.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= n) {
                        throw new IllegalArgumentException("a quoted field is not closed before the end of the line"
                                + " (fields spanning lines are not supported)");
                    }
                    char c = line.charAt(i++);
                    if (c == '"') {
                        if (i < n && line.charAt(i) == '"') {
                            field.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        field.append(c);
                    }
                }
                if (i < n && line.charAt(i) != delimiter) {
                    throw new IllegalArgumentException("text after the closing quote of field " + (out.size() + 1));
                }
            } else {
                while (i < n && line.charAt(i) != delimiter) {
                    field.append(line.charAt(i++));
                }
            }
            out.add(field.toString());
            if (i >= n) {
                return out;
            }
            i++;   // the delimiter
        }
    }

    /**
     * A feature value: a finite number in plain decimal notation within the float range (surrounding spaces
     * allowed). Otherwise the message says why: empty, not a number, or not finite.
     */
    public static float number(String cell) {
        String s = cell.strip();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty; features must be finite numbers");
        }
        if (!NUMBER.matcher(s).matches()) {
            String lower = s.toLowerCase(java.util.Locale.ROOT).replaceFirst("^[+-]", "");
            if (lower.equals("nan") || lower.startsWith("inf")) {
                throw new IllegalArgumentException(quote(s) + " is not finite; features must be finite numbers");
            }
            throw new IllegalArgumentException(quote(s) + " is not a number; features must be finite numbers in plain"
                    + " decimal notation (e.g. 0.25, -3, 1e-4)");
        }
        float f = Float.parseFloat(s);
        if (Float.isInfinite(f)) {
            throw new IllegalArgumentException(quote(s) + " is beyond the float range (|x| <= 3.4e38); features must be"
                    + " finite numbers");
        }
        return f;
    }

    /** A label: empty (no label, null) or a whole number in [0, numClasses). */
    public static Integer label(String cell, int numClasses) {
        String s = cell.strip();
        if (s.isEmpty()) {
            return null;
        }
        double v;
        if (!NUMBER.matcher(s).matches()) {
            throw new IllegalArgumentException(quote(s) + " is not a class index; labels must be whole numbers in [0, "
                    + numClasses + ") (kd.dataset.num-classes), or empty for a row without a label");
        }
        v = Double.parseDouble(s);
        if (v != Math.rint(v) || v < 0 || v >= numClasses) {
            throw new IllegalArgumentException(quote(s) + " is not a class index; labels must be whole numbers in [0, "
                    + numClasses + ") (kd.dataset.num-classes), or empty for a row without a label");
        }
        return (int) v;
    }

    private static String quote(String s) {
        return "\"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\"";
    }
}
