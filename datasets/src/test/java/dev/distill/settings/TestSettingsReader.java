package dev.distill.settings;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestSettingsReader {

    private static Config parse(String hocon) {
        return ConfigFactory.parseString(hocon, ConfigParseOptions.defaults().setOriginDescription("job.conf"));
    }

    @Test
    void collectsEveryProblemWithKeyValueAndWhatIsValid() {
        Config c = parse("""
                kd {
                  epochs = 0
                  temperature = -1
                  alpha = 1.5
                  batch = "many"
                  kind = cosine
                }""");
        SettingsReader r = SettingsReader.of(c, "kd");
        assertThat(r.integer("epochs", 1, Integer.MAX_VALUE)).isEqualTo(1);
        r.positive("temperature");
        r.fraction("alpha");
        r.integer("batch", 1, 100);
        r.oneOf("kind", "constant", "step");
        assertThat(r.problems()).extracting(Problem::toString).containsExactly(
                "job.conf:2: kd.epochs = 0: must be an integer >= 1",
                "job.conf:3: kd.temperature = -1: must be a number > 0",
                "job.conf:4: kd.alpha = 1.5: must be a number in [0, 1]",
                "job.conf:5: kd.batch = \"many\": must be an integer in [1, 100]",
                "job.conf:6: kd.kind = \"cosine\": must be one of constant, step");
        assertThatThrownBy(r::throwIfAny).isInstanceOf(SettingsException.class)
                .hasMessageStartingWith("5 configuration problems:\n  job.conf:2: kd.epochs = 0");
    }

    @Test
    void reportsFileAndLineForValuesFromAFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path f = dir.resolve("job.conf");
        java.nio.file.Files.writeString(f, "kd {\n  a = 1\n  epochs = 2.5\n}\n");
        SettingsReader r = SettingsReader.of(ConfigFactory.parseFile(f.toFile()), "kd");
        r.integer("epochs", 1, 10);
        assertThat(r.problems()).extracting(Problem::toString)
                .containsExactly(f + ":3: kd.epochs = 2.5: must be a whole number in [1, 10]");
    }

    @Test
    void missingKeySaysHowToSetIt() {
        SettingsReader r = SettingsReader.of(parse("kd { }"), "kd");
        r.string("model");
        assertThat(r.problems().get(0).message()).isEqualTo("missing; set it in the job file or with -Dkd.model=...");
    }

    @Test
    void unknownKeysSuggestTheNearestValidKey() {
        Config reference = parse("kd { training { epochs = 1, batch-size = 2 }, spark { conf {} } }");
        Config user = parse("kd { training { epocs = 3 }, spark { conf { \"spark.ui.enabled\" = false } } }");
        List<Problem> problems = UnknownKeys.find(user, reference, "kd", Set.of("kd.spark.conf"));
        assertThat(problems).extracting(Problem::toString).containsExactly(
                "job.conf:1: kd.training.epocs = 3: unknown key; did you mean kd.training.epochs?"
                        + " Valid keys under kd.training: batch-size, epochs");
    }

    @Test
    void editDistanceIsLevenshtein() {
        assertThat(UnknownKeys.editDistance("epocs", "epochs")).isEqualTo(1);
        assertThat(UnknownKeys.editDistance("kitten", "sitting")).isEqualTo(3);
        assertThat(UnknownKeys.editDistance("", "abc")).isEqualTo(3);
    }
}
