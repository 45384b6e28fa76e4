package dev.distill.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class TestRuntimeMain {
    @TempDir
    Path dir;

    private String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = RuntimeMain.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    private Path handModelFile() throws Exception {
        Path model = dir.resolve("m.kdi8");
        try (var out = Files.newOutputStream(model)) {
            ModelFile.write(TestInt8Model.handModel(), out);
        }
        return model;
    }

    @Test
    void printsOnePredictionPerLineAndSkipsAHeader() throws Exception {
        Path model = handModelFile();
        Path csv = Files.writeString(dir.resolve("in.csv"), "a,b\n1.0,2.5\n0,0\n\n-3,9\n");
        String[] r = run(model.toString(), csv.toString());
        Int8Model m = TestInt8Model.handModel();
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).isEqualTo(m.predict(new float[] {1f, 2.5f}) + "\n" + m.predict(new float[] {0f, 0f}) + "\n"
                + m.predict(new float[] {-3f, 9f}) + "\n");
    }

    @Test
    void reportsBadInputAndBadModelsWithExitCodes() throws Exception {
        Path model = handModelFile();
        Path csv = Files.writeString(dir.resolve("bad.csv"), "1,2\n1,2,3\n");
        String[] r = run(model.toString(), csv.toString());
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).isEqualTo("distill-runtime: " + csv + ":2: 3 values; the model takes 2\n");
        Path junk = Files.writeString(dir.resolve("junk.kdi8"), "hello world, not a model");
        String[] bad = run(junk.toString(), csv.toString());
        assertThat(bad[0]).isEqualTo("1");
        assertThat(bad[2]).isEqualTo("distill-runtime: " + junk + ": not a distill int8 model (no KDI8 magic)\n");
        assertThat(run()[0]).isEqualTo("2");
    }
}
