package dev.distill.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The driver is killed (SIGKILL) in the middle of student training; the same command then finishes from
 * the last checkpoint, training fewer epochs than a fresh run, to the accuracy of an undisturbed run.
 */
class DriverKillIT {
    static final int EPOCHS = 10;

    /** `distill run job.conf` in a JVM of its own (embedded local Spark), console to {@code log}. */
    private static Process start(Path job, Path out, Path log) throws Exception {
        String jar;
        try (var s = Files.list(Path.of("target"))) {
            jar = s.map(Path::toString).filter(p -> p.endsWith("-SNAPSHOT.jar")).findFirst().orElseThrow();
        }
        // Temporary files and Spark's local folders beside the output: a killed driver leaves them behind.
        Path tmp = Files.createDirectories(out.resolveSibling("tmp"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx3g", "-XX:+UseParallelGC", "-Ddistill.log=" + out.resolveSibling(out.getFileName() + ".log"),
                "-Djava.io.tmpdir=" + tmp));
        cmd.addAll(Arrays.asList(StandaloneClusterIT.OPENS));
        cmd.addAll(List.of("-cp", jar + File.pathSeparator + Files.readString(Path.of("target", "local-classpath.txt")).trim(),
                "dev.distill.job.DistillMain", "run", job.toString(), "-Dkd.output-dir=" + out));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_LOCAL_DIRS", tmp.toString());
        return pb.start();
    }

    private static String finish(Process p, Path log) throws Exception {
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("distill finished").isTrue();
        String text = Files.readString(log);
        assertThat(p.exitValue()).as(text).isZero();
        return text;
    }

    private static int epochsTrained(String log) {
        Matcher m = Pattern.compile("student: epoch \\d+/" + EPOCHS + " ").matcher(log);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** Epochs recorded in the checkpoint (0 while there is none, or while it is being replaced). */
    private static int checkpointedEpochs(String file) {
        try {
            var ck = dev.distill.student.spark.Checkpoint.read(new org.apache.hadoop.conf.Configuration(), file);
            return ck == null ? 0 : ck.epoch() + 1;
        } catch (java.io.UncheckedIOException e) {
            return 0;   // caught between the delete and the rename of an atomic replace: look again
        }
    }

    @Test
    void aKilledDriverResumesFromTheLastCheckpoint(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
        Path model = Path.of("..", "teacher", "src", "test", "resources", "onnx", "fashion-cnn.onnx").toAbsolutePath();
        Path job = Files.writeString(dir.resolve("kill.conf"), """
                include file("%s")
                kd {
                  spark { master = "local[2]", conf { "spark.ui.enabled" = false } }
                  dataset { max-train-rows = 30000, max-test-rows = 2000 }
                  teacher { source = load, model = "%s", onnx.input-shape = [1, 28, 28] }
                  soft-labels.batch-size = 64
                  student { baseline = false, training { epochs = %d } }
                  report.speed-seconds = 0.2
                }
                """.formatted(Path.of("..", "conf", "fashion-mnist.conf").toAbsolutePath(), model, EPOCHS));

        Path killed = dir.resolve("killed");
        Path firstLog = dir.resolve("first.log");
        Process first = start(job, killed, firstLog);
        // Kill once the checkpoint records epoch 3 (the state the resume is asserted on), not on a log line:
        // the console says "epoch 3" before that epoch's checkpoint is written.
        String checkpoint = killed.resolve("student/checkpoint.bin").toString();
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (checkpointedEpochs(checkpoint) < 3) {
            assertThat(first.isAlive()).as(Files.readString(firstLog)).isTrue();
            assertThat(System.nanoTime()).as("epoch 3 checkpointed within 10 minutes").isLessThan(deadline);
            // Watching another process's file: no event to wait on.
            TimeUnit.MILLISECONDS.sleep(100);
        }
        // A second run into the same folder while the first holds it is refused, naming the first.
        Path secondLog = dir.resolve("second.log");
        Process second = start(job, killed, secondLog);
        assertThat(second.waitFor(5, TimeUnit.MINUTES)).as("the refused run ends").isTrue();
        assertThat(second.exitValue()).as(Files.readString(secondLog)).isEqualTo(3);
        assertThat(Files.readString(secondLog)).contains("distill: " + killed + " is in use by another distill run (pid "
                + first.pid() + " on ", ", `run " + job + "`, since ", "); wait for it to finish, or choose another"
                + " kd.output-dir\n");
        first.destroyForcibly();
        assertThat(first.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(killed.resolve("student/checkpoint.bin")).exists();
        assertThat(killed.resolve("report/report.json")).doesNotExist();

        Path againLog = dir.resolve("again.log");
        String again = finish(start(job, killed, againLog), againLog);
        assertThat(again).as("the killed run's lock is taken over").contains(killed + ": took over the lock of pid "
                + first.pid() + " on ");
        Matcher resumed = Pattern.compile("student: resuming from checkpoint \\S+ after epoch (\\d+)").matcher(again);
        assertThat(resumed.find()).as(again).isTrue();
        int after = Integer.parseInt(resumed.group(1));
        assertThat(after).isBetween(3, EPOCHS - 1);
        assertThat(again).contains("label: up to date (");
        assertThat(epochsTrained(again)).as("epochs trained after the restart").isEqualTo(EPOCHS - after);
        // The history and the metrics keep the epochs trained before the kill.
        var history = new ObjectMapper().readTree(killed.resolve("student/history.json").toFile()).at("/epochs");
        assertThat(history.size()).isEqualTo(EPOCHS);
        for (int e = 0; e < EPOCHS; e++) {
            assertThat(history.get(e).at("/epoch").asInt()).isEqualTo(e + 1);
        }
        assertThat(Files.readAllLines(killed.resolve("report/metrics.jsonl")).stream()
                .filter(l -> l.contains("\"model\":\"student\""))).hasSize(EPOCHS);

        Path freshLog = dir.resolve("fresh.log");
        String fresh = finish(start(job, dir.resolve("fresh"), freshLog), freshLog);
        assertThat(epochsTrained(fresh)).isEqualTo(EPOCHS);
        ObjectMapper json = new ObjectMapper();
        double resumedAccuracy = json.readTree(killed.resolve("report/report.json").toFile()).at("/student/test_accuracy").asDouble();
        double freshAccuracy = json.readTree(dir.resolve("fresh/report/report.json").toFile()).at("/student/test_accuracy").asDouble();
        assertThat(resumedAccuracy).isCloseTo(freshAccuracy, within(0.01));
    }
}
