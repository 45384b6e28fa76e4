package dev.distill.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code java -jar distill-runtime.jar <model-file> <input.csv>}: prints the predicted class of each CSV
 * line, one per line. Each line holds the model's input features, comma-separated; a first line that is
 * not numeric is taken as a header and skipped. Exit codes: 0 success, 2 bad arguments or input,
 * 1 an unusable model file.
 */
public final class RuntimeMain {
    private RuntimeMain() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length != 2) {
            err.println("usage: java -jar distill-runtime.jar <model-file> <input.csv>");
            return 2;
        }
        Int8Model model;
        try {
            model = ModelFile.read(Path.of(args[0]));
        } catch (ModelFileException e) {
            err.println("distill-runtime: " + e.getMessage());
            return 1;
        }
        Path csv = Path.of(args[1]);
        try (BufferedReader in = Files.newBufferedReader(csv, StandardCharsets.UTF_8)) {
            StringBuilder buffer = new StringBuilder();
            int lineNo = 0;
            for (String line; (line = in.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",", -1);
                float[] x = new float[cells.length];
                try {
                    for (int i = 0; i < cells.length; i++) {
                        x[i] = Float.parseFloat(cells[i].trim());
                    }
                } catch (NumberFormatException e) {
                    if (lineNo == 1) {
                        continue; // a header
                    }
                    err.println("distill-runtime: " + csv + ":" + lineNo + ": not a number: " + e.getMessage());
                    return 2;
                }
                if (x.length != model.inputLength()) {
                    err.println("distill-runtime: " + csv + ":" + lineNo + ": " + x.length + " values; the model takes "
                            + model.inputLength());
                    return 2;
                }
                buffer.append(model.predict(x)).append('\n');
                if (buffer.length() > 1 << 16) {
                    out.print(buffer);
                    buffer.setLength(0);
                }
            }
            out.print(buffer);
            out.flush();
            return 0;
        } catch (IOException e) {
            err.println("distill-runtime: cannot read " + csv + ": " + e.getMessage());
            return 2;
        }
    }
}
