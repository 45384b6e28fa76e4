package dev.distill.job;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The spark-submit job jar: our code, DL4J/ND4J and ONNX Runtime, no Spark, and native code for linux-x86_64 only. */
class JobJarIT {
    @Test
    void jobJarHoldsWhatAClusterNeedsAndNothingElse() throws Exception {
        Path jar;
        try (Stream<Path> s = Files.list(Path.of("target"))) {
            jar = s.filter(p -> p.getFileName().toString().endsWith("-job.jar")).findFirst().orElseThrow();
        }
        try (JarFile j = new JarFile(jar.toFile())) {
            List<String> names = Collections.list(j.entries()).stream().map(e -> e.getName()).toList();
            assertThat(j.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo("dev.distill.job.DistillMain");
            assertThat(names).contains("dev/distill/job/DistillMain.class", "dev/distill/student/loss/HintonLoss.class",
                    "org/deeplearning4j/nn/multilayer/MultiLayerNetwork.class", "reference.conf");
            assertThat(names).noneMatch(n -> n.startsWith("org/apache/spark/") && n.endsWith(".class"));
            List<String> natives = names.stream()
                    .filter(n -> n.matches(".*\\.(so|dll|dylib|jnilib)(\\.[0-9]+)*$")).toList();
            assertThat(natives).isNotEmpty().allMatch(n -> n.contains("linux-x86_64") || n.contains("linux-x86-64")
                    || n.contains("linux-x64"));
            assertThat(names).contains("ai/onnxruntime/native/linux-x64/libonnxruntime.so",
                    "ai/onnxruntime/OrtSession.class");
            String reference = new String(j.getInputStream(j.getEntry("reference.conf")).readAllBytes());
            assertThat(reference).contains("dataset {", "teacher {", "student {", "output-dir");
        }
    }
}
