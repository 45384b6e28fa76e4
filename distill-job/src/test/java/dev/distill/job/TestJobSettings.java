package dev.distill.job;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TestJobSettings {
    @TempDir
    Path dir;

    /** Quoted keys (one key with dots) and unquoted ones (nested objects) both name Spark properties. */
    @Test
    void sparkConfKeysArePropertyNamesQuotedOrNot() throws Exception {
        Path conf = Files.writeString(dir.resolve("j.conf"), """
                include file("%s")
                kd.output-dir = "%s"
                kd.spark.conf { "spark.ui.enabled" = false, spark.eventLog.enabled = true, "spark.executor.memory" = 2g }
                """.formatted(Path.of("..", "conf", "fashion-mnist.conf").toAbsolutePath(), dir.resolve("out")));
        JobSettings s = JobSettings.from(JobConfig.load(conf.toFile(), Map.of()));
        assertThat(s.sparkConf()).containsOnly(Map.entry("spark.ui.enabled", "false"),
                Map.entry("spark.eventLog.enabled", "true"), Map.entry("spark.executor.memory", "2g"));
    }
}
