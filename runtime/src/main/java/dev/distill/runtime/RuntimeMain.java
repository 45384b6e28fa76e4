package dev.distill.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code java -jar distill-runtime.jar [--header | --no-header] <model-file> <input.csv | ->}: prints the
 * predicted class of each row of the CSV file ({@code -} reads standard input), one line out per line in.
 * <ul>
 *   <li>A row is the model's input features, comma-separated: each cell a finite decimal number
 *       ({@code 3}, {@code -0.5}, {@code 1e-3}), spaces around it allowed. An empty cell, text, NaN or an
 *       infinity (in any spelling), or a number beyond the float range is an error.</li>
 *   <li>Header: {@code --header} skips the first line whatever it holds; {@code --no-header} reads it as a
 *       row. Without either, the first line is skipped only when it has as many cells as the model takes
 *       values and every cell is non-empty text (no number, no NaN or infinity); otherwise it is a row, so a
 *       typo in a first row of numbers, or a file of another separator, is an error naming the line, never a
 *       silently skipped line.</li>
 *   <li>A UTF-8 byte order mark at the start is dropped; lines may end in {@code \n} or {@code \r\n}.</li>
 *   <li>A blank (or whitespace-only) line is an error, except blank lines at the very end of the input,
 *       which are ignored; so every printed class lines up with its input line (after any header).</li>
 * </ul>
 * Nothing is printed until the whole input has been read and checked (the classes are held in memory, a
 * few bytes a row): on success one class per row, on an error no output at all; so input piped to
 * {@code -} is answered when it ends. Every error is one line on standard error, starting
 * {@code distill-runtime: } and naming the file, line and column where it applies, and what is valid.
 * Exit codes: 0 success, 2 bad arguments or input, 1 an unusable model file.
 */
public final class RuntimeMain {
    static final String USAGE = "usage: java -jar distill-runtime.jar [--header | --no-header] <model-file> <input.csv | ->";
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NON_FINITE = Pattern.compile("(?i)[+-]?(nan|inf|infinity)");

    private enum Header { AUTO, YES, NO }

    /** A bad input line or cell; the message names where and what is valid. */
    private static final class BadInput extends Exception {
        BadInput(String message) {
            super(message, null, false, false);
        }
    }

    private RuntimeMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.in, System.out, System.err));
    }

    static int run(String[] args, InputStream stdin, PrintStream out, PrintStream err) {
        Header header = Header.AUTO;
        List<String> files = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals("--header") || arg.equals("--no-header")) {
                if (header != Header.AUTO) {
                    return fail(err, 2, "give at most one of --header and --no-header; " + USAGE);
                }
                header = arg.equals("--header") ? Header.YES : Header.NO;
            } else if (arg.startsWith("-") && !arg.equals("-")) {
                return fail(err, 2, "unknown option " + arg + "; " + USAGE);
            } else {
                files.add(arg);
            }
        }
        if (files.size() != 2) {
            return fail(err, 2, USAGE);
        }
        Int8Model model;
        try {
            model = ModelFile.read(Path.of(files.get(0)));
        } catch (ModelFileException e) {
            return fail(err, 1, e.getMessage());
        }
        boolean isStdin = files.get(1).equals("-");
        String name = isStdin ? "<stdin>" : files.get(1);
        if (!isStdin && Files.isDirectory(Path.of(name))) {
            return fail(err, 2, name + ": is a directory; give a CSV file, or - for standard input");
        }
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                isStdin ? stdin : Files.newInputStream(Path.of(name)), StandardCharsets.UTF_8.newDecoder()))) {
            out.print(predictAll(in, name, model, header));
            out.flush();
            return 0;
        } catch (BadInput e) {
            return fail(err, 2, e.getMessage());
        } catch (NoSuchFileException e) {
            return fail(err, 2, name + ": no such file");
        } catch (CharacterCodingException e) {
            return fail(err, 2, name + ": not UTF-8 text; save the CSV as UTF-8 (or ASCII)");
        } catch (IOException e) {
            return fail(err, 2, "cannot read " + name + ": " + e.getMessage());
        }
    }

    private static int fail(PrintStream err, int code, String message) {
        err.println("distill-runtime: " + message);
        return code;
    }

    /** One predicted class per row, each followed by a newline. */
    private static String predictAll(BufferedReader in, String name, Int8Model model, Header header)
            throws IOException, BadInput {
        int width = model.inputLength();
        float[] x = new float[width];
        StringBuilder predictions = new StringBuilder();
        int firstBlank = 0; // the first of the blank lines after the last row; 0 when there are none
        int lineNo = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNo++;
            if (lineNo == 1) {
                line = line.startsWith("\uFEFF") ? line.substring(1) : line;
                if (header == Header.YES || header == Header.AUTO && isHeader(line, width)) {
                    continue;
                }
            }
            if (line.isBlank()) {
                firstBlank = firstBlank == 0 ? lineNo : firstBlank;
                continue;
            }
            if (firstBlank != 0) {
                throw new BadInput(name + ":" + firstBlank + ": empty line; every line must hold one row of "
                        + width + " values");
            }
            String[] cells = line.split(",", -1);
            if (cells.length != width) {
                throw new BadInput(name + ":" + lineNo + ": " + cells.length + " values; the model takes " + width);
            }
            String hint = lineNo == 1 && header == Header.AUTO
                    ? " (line 1 is skipped as a header only when its " + width + " cells are all text; pass --header to"
                    + " skip it anyway)"
                    : "";
            for (int i = 0; i < width; i++) {
                x[i] = parse(cells[i].trim(), name + ":" + lineNo + ":" + (i + 1), hint);
            }
            predictions.append(model.predict(x)).append('\n');
        }
        return predictions.toString();
    }

    /**
     * Whether a first line is unambiguously a header: as many cells as the model takes values (a line of
     * another separator or of quoted cells is one cell, or a wrong count, and so an error, not a header), each
     * non-empty and not a number of any kind.
     */
    private static boolean isHeader(String line, int width) {
        String[] cells = line.split(",", -1);
        if (cells.length != width) {
            return false;
        }
        for (String cell : cells) {
            String c = cell.trim();
            if (c.isEmpty() || DECIMAL.matcher(c).matches() || NON_FINITE.matcher(c).matches()) {
                return false;
            }
        }
        return true;
    }

    private static float parse(String cell, String where, String hint) throws BadInput {
        if (cell.isEmpty()) {
            throw new BadInput(where + ": empty cell; values must be finite numbers");
        }
        if (NON_FINITE.matcher(cell).matches()) {
            throw new BadInput(where + ": not finite: \"" + cell + "\"; values must be finite numbers");
        }
        if (!DECIMAL.matcher(cell).matches()) {
            throw new BadInput(where + ": not a number: \"" + cell + "\"; values must be finite numbers" + hint);
        }
        float value = Float.parseFloat(cell);
        if (Float.isInfinite(value)) {
            throw new BadInput(where + ": beyond the float range: \"" + cell + "\"; values must be finite numbers"
                    + " of magnitude at most " + Float.MAX_VALUE);
        }
        return value;
    }
}
