package dev.distill.job;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JVM options {@code bin/distill} starts the job with: the heap, the parallel collector and its fixed young
 * generation (half a gigabyte, or a third of a smaller heap). The JVM prints the options it was given; without a
 * command the job prints its usage and stops.
 */
class LauncherIT {
    private static String jvmFlags(Map<String, String> env) throws IOException, InterruptedException {
        return launch("-XX:+PrintCommandLineFlags", env);
    }

    private static String launch(String javaOpts, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", Path.of("..", "bin", "distill").toString());
        pb.environment().remove("DISTILL_HEAP");
        pb.environment().remove("DISTILL_GC");
        pb.environment().put("JAVA_OPTS", javaOpts);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(output).isEqualTo(2);
        assertThat(output).contains("distill: missing command");
        return output;
    }

    @Test
    void theDefaultHeapHasAHalfGigabyteYoungGeneration() throws Exception {
        assertThat(jvmFlags(Map.of())).contains("-XX:MaxHeapSize=12884901888", "-XX:MaxNewSize=536870912",
                "-XX:NewSize=536870912", "-XX:+UseParallelGC");
    }

    @Test
    void aSmallHeapHasAThirdOfItAsYoungGeneration() throws Exception {
        assertThat(jvmFlags(Map.of("DISTILL_HEAP", "600m"))).contains("-XX:MaxHeapSize=629145600",
                "-XX:MaxNewSize=209715200", "-XX:+UseParallelGC");
    }

    @Test
    void anotherCollectorReplacesBothOptions() throws Exception {
        String flags = jvmFlags(Map.of("DISTILL_GC", "-XX:+UseSerialGC"));
        assertThat(flags).contains("-XX:+UseSerialGC").doesNotContain("UseParallelGC", "MaxNewSize=536870912");
    }

    /** The JVM has the Vector API (the int8 runtime's SIMD inference); Java's warning about it is not hidden. */
    @Test
    void theVectorApiIsAdded() throws Exception {
        assertThat(launch("--show-module-resolution", Map.of())).contains(
                "root jdk.incubator.vector jrt:/jdk.incubator.vector",
                "WARNING: Using incubator modules: jdk.incubator.vector");
    }
}
