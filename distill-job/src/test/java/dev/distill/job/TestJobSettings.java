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

    /**
     * The stage table's timing: by default 2 s per stage, a second of warm-up and five windows of 0.2 s; the
     * range's ends are accepted.
     */
    @Test
    void reportTimingDefaultsToASecondOfWarmUpAndFiveWindowsOfAFifth() throws Exception {
        Path conf = Files.writeString(dir.resolve("j.conf"), """
                include file("%s")
                kd.output-dir = "%s"
                """.formatted(Path.of("..", "conf", "fashion-mnist.conf").toAbsolutePath(), dir.resolve("out")));
        dev.distill.job.report.StageTable.Timing t = JobSettings.from(JobConfig.load(conf.toFile(), Map.of()))
                .reportTiming();
        assertThat(t.seconds()).isEqualTo(2.0);
        assertThat(t.warmupSeconds()).isEqualTo(1.0);
        assertThat(t.windowSeconds()).isEqualTo(0.2);
        for (String v : new String[] {"0.01", "600"}) {
            assertThat(JobSettings.from(JobConfig.load(conf.toFile(), Map.of("kd.report.speed-seconds", v)))
                    .reportTiming().seconds()).isEqualTo(Double.parseDouble(v));
        }
    }
}
