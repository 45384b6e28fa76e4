package dev.distill.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TestRuntimeMain {
    private static final String FINITE = "; values must be finite numbers";
    private static final String HEADER_HINT =
            " (line 1 is skipped as a header only when its 2 cells are all text; pass --header to skip it anyway)";

    /** Two inputs, two classes: class 1 when the second input is the larger (on a grid of 0.5), else 0. */
    private static final Int8Model LARGER = new Int8Model(2, 0.5f, 128, List.of(new DenseLayer(2, 2,
            DenseLayer.Activation.IDENTITY, new float[] {1f, 1f}, new byte[] {1, 0, 0, 1}, new int[] {0, 0}, 0f, 0)));

    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private Result runWithStdin(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = RuntimeMain.run(args, new ByteArrayInputStream(stdin), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Result run(String... args) {
        return runWithStdin(new byte[0], args);
    }

    private Path modelFile() throws Exception {
        Path model = dir.resolve("m.kdi8");
        try (var out = Files.newOutputStream(model)) {
            ModelFile.write(LARGER, out);
        }
        return model;
    }

    /** Runs {@link #LARGER} on a CSV file holding {@code text}. */
    private Result runOn(String text, String... options) throws Exception {
        Path csv = Files.writeString(dir.resolve("in.csv"), text);
        String[] args = new String[options.length + 2];
        args[0] = modelFile().toString();
        args[1] = csv.toString();
        System.arraycopy(options, 0, args, 2, options.length);
        return run(args);
    }

    private Result error(String message, int code) {
        return new Result(code, "", "distill-runtime: " + message + "\n");
    }

    private String csv() {
        return dir.resolve("in.csv").toString();
    }

    @Test
    void printsOnePredictionPerRowAndSkipsAFirstLineOfText() throws Exception {
        assertThat(runOn("a,b\n1.0,2.5\n0,0\n-3,9\n3,-9\n")).isEqualTo(new Result(0, "1\n0\n1\n0\n", ""));
        assertThat(runOn("1.0,2.5\n3,-9\n")).isEqualTo(new Result(0, "1\n0\n", ""));
        assertThat(runOn("")).isEqualTo(new Result(0, "", ""));
        assertThat(runOn("a,b\n")).isEqualTo(new Result(0, "", ""));
    }

    @Test
    void acceptsSpacesWindowsLineEndingsAByteOrderMarkAndBlankLinesAtTheEnd() throws Exception {
        assertThat(runOn("\uFEFF-3,9\r\n 0 ,\t0\r\n+3.,-9e0\r\n.5,1E+1\r\n\r\n  \r\n\n"))
                .isEqualTo(new Result(0, "1\n0\n0\n1\n", ""));
        assertThat(runOn("\uFEFFx,y\r\n-3,9\r\n")).isEqualTo(new Result(0, "1\n", ""));
    }

    @Test
    void headerOptionsSayWhetherTheFirstLineIsAHeader() throws Exception {
        assertThat(runOn("-3,9\n3,-9\n", "--header")).isEqualTo(new Result(0, "0\n", ""));
        assertThat(runOn("x,1\n3,-9\n", "--header")).isEqualTo(new Result(0, "0\n", ""));
        assertThat(runOn("-3,9\n", "--no-header")).isEqualTo(new Result(0, "1\n", ""));
        assertThat(runOn("a,b\n-3,9\n", "--no-header")).isEqualTo(error(csv() + ":1:1: not a number: \"a\"" + FINITE, 2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"NaN", "nan", "-nan", "Infinity", "-Infinity", "inf", "+INF"})
    void rejectsNaNAndInfinitiesNamingLineColumnAndValue(String value) throws Exception {
        assertThat(runOn("1,2\n3," + value + "\n4,5\n")).isEqualTo(error(csv() + ":2:2: not finite: \"" + value + "\"" + FINITE, 2));
        assertThat(runOn(value + "," + value + "\n1,2\n"))
                .isEqualTo(error(csv() + ":1:1: not finite: \"" + value + "\"" + FINITE, 2)); // not a header
    }

    @Test
    void rejectsNumbersBeyondTheFloatRange() throws Exception {
        assertThat(runOn("1,2\n-1e39,0\n")).isEqualTo(error(csv() + ":2:1: beyond the float range: \"-1e39\"" + FINITE
                + " of magnitude at most 3.4028235E38", 2));
    }

    @Test
    void aFirstLineMixingNumbersAndTextIsAnErrorNotAHeader() throws Exception {
        assertThat(runOn("1.0,2.5x\n0,0\n")).isEqualTo(error(csv() + ":1:2: not a number: \"2.5x\"" + FINITE + HEADER_HINT, 2));
        assertThat(runOn("a,\n0,0\n")).isEqualTo(error(csv() + ":1:1: not a number: \"a\"" + FINITE + HEADER_HINT, 2));
        assertThat(runOn("1,2\n3,x\n")).isEqualTo(error(csv() + ":2:2: not a number: \"x\"" + FINITE, 2));
    }

    /**
     * A single row of another separator, or of quoted cells, is one text cell: not a header (the model takes
     * two values), so an error naming line 1, never an empty answer with exit code 0.
     */
    @Test
    void aFirstLineOfAnotherSeparatorIsAnErrorNotAHeader() throws Exception {
        assertThat(runOn("1\t2\n")).isEqualTo(error(csv() + ":1: 1 values; the model takes 2", 2));
        assertThat(runOn("1;2\n3;4\n")).isEqualTo(error(csv() + ":1: 1 values; the model takes 2", 2));
        assertThat(runOn("a;b\n1;2\n")).isEqualTo(error(csv() + ":1: 1 values; the model takes 2", 2));
        assertThat(runOn("f1,f2\n1,2\n").code()).as("a header of two names is still skipped").isZero();
    }

    @Test
    void aMissingModelFileSaysSo() throws Exception {
        Path csv = Files.writeString(dir.resolve("in.csv"), "1,2\n");
        Result r = run(dir.resolve("nope.int8").toString(), csv.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("distill-runtime: " + dir.resolve("nope.int8") + ": no such file\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1d", "1f", "0x1p3", "1_000", "\"1\"", "1 2", "--1", "1e", ".", "\u0663"})
    void rejectsJavaFloatSyntaxAndOtherNonDecimals(String value) throws Exception {
        assertThat(runOn("1,2\n0," + value + "\n")).isEqualTo(error(csv() + ":2:2: not a number: \"" + value + "\"" + FINITE, 2));
    }

    @Test
    void rejectsEmptyCells() throws Exception {
        assertThat(runOn("1,2\n,3\n")).isEqualTo(error(csv() + ":2:1: empty cell" + FINITE, 2));
        assertThat(runOn("1,2\n3, \n")).isEqualTo(error(csv() + ":2:2: empty cell" + FINITE, 2));
        assertThat(runOn(",3\n")).isEqualTo(error(csv() + ":1:1: empty cell" + FINITE, 2));
    }

    @Test
    void aBlankLineBeforeTheLastRowIsAnError() throws Exception {
        String message = ": empty line; every line must hold one row of 2 values";
        assertThat(runOn("1,2\n\n3,4\n")).isEqualTo(error(csv() + ":2" + message, 2));
        assertThat(runOn("1,2\r\n \t\r\n\r\n3,4\r\n")).isEqualTo(error(csv() + ":2" + message, 2));
        assertThat(runOn("\n1,2\n")).isEqualTo(error(csv() + ":1" + message, 2));
        assertThat(runOn("a,b\n\n1,2\n")).isEqualTo(error(csv() + ":2" + message, 2));
    }

    @Test
    void printsNothingWhenALaterLineIsBad() throws Exception {
        String good = "1,2\n".repeat(50_000); // 100 KB of output, beyond any buffer
        assertThat(runOn(good + "1,2,3\n")).isEqualTo(error(csv() + ":50001: 3 values; the model takes 2", 2));
        assertThat(runOn(good)).isEqualTo(new Result(0, "1\n".repeat(50_000), ""));
    }

    @Test
    void readsStandardInputForADash() throws Exception {
        String model = modelFile().toString();
        byte[] rows = "\uFEFFa,b\r\n-3,9\r\n3,-9\r\n".getBytes(StandardCharsets.UTF_8);
        assertThat(runWithStdin(rows, model, "-")).isEqualTo(new Result(0, "1\n0\n", ""));
        assertThat(runWithStdin("1,2\n3,nan\n".getBytes(StandardCharsets.UTF_8), "--no-header", model, "-"))
                .isEqualTo(error("<stdin>:2:2: not finite: \"nan\"" + FINITE, 2));
    }

    @Test
    void reportsAMissingFileADirectoryAndTextThatIsNotUtf8() throws Exception {
        String model = modelFile().toString();
        Path missing = dir.resolve("missing.csv");
        assertThat(run(model, missing.toString())).isEqualTo(error(missing + ": no such file", 2));
        assertThat(run(model, dir.toString()))
                .isEqualTo(error(dir + ": is a directory; give a CSV file, or - for standard input", 2));
        Path latin1 = Files.write(dir.resolve("latin1.csv"), new byte[] {'1', ',', '2', '\n', '3', ',', (byte) 0xE9, '\n'});
        assertThat(run(model, latin1.toString()))
                .isEqualTo(error(latin1 + ": not UTF-8 text; save the CSV as UTF-8 (or ASCII)", 2));
    }

    @Test
    void reportsBadArgumentsWithTheUsage() throws Exception {
        String model = modelFile().toString();
        assertThat(run()).isEqualTo(error(RuntimeMain.USAGE, 2));
        assertThat(run(model)).isEqualTo(error(RuntimeMain.USAGE, 2));
        assertThat(run(model, "a.csv", "b.csv")).isEqualTo(error(RuntimeMain.USAGE, 2));
        assertThat(run("--headers", model, "a.csv")).isEqualTo(error("unknown option --headers; " + RuntimeMain.USAGE, 2));
        assertThat(run("--header", "--no-header", model, "a.csv"))
                .isEqualTo(error("give at most one of --header and --no-header; " + RuntimeMain.USAGE, 2));
        assertThat(RuntimeMain.USAGE)
                .isEqualTo("usage: java -jar distill-runtime.jar [--header | --no-header] <model-file> <input.csv | ->");
    }

    @Test
    void reportsAWrongValueCountAndBadModelsWithExitCodes() throws Exception {
        assertThat(runOn("1,2\n1,2,3\n")).isEqualTo(error(csv() + ":2: 3 values; the model takes 2", 2));
        assertThat(runOn("1\n")).isEqualTo(error(csv() + ":1: 1 values; the model takes 2", 2));
        Path junk = Files.writeString(dir.resolve("junk.kdi8"), "hello world, not a model");
        assertThat(run(junk.toString(), csv())).isEqualTo(error(junk + ": not a distill int8 model (no KDI8 magic)", 1));
    }
}
