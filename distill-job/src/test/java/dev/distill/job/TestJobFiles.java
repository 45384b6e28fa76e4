package dev.distill.job;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Every example job file in conf/ must load and validate, so an example can never rot. */
class TestJobFiles {
    @Test
    void everyExampleJobFileValidates(@TempDir Path tmp) throws Exception {
        Path conf = Path.of("..", "conf");
        List<Path> files;
        try (Stream<Path> s = Files.list(conf)) {
            files = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        // Examples that load the teacher an earlier example trained get a stand-in of the same shape.
        Path teacher = tmp.resolve("teacher.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(new dev.distill.student.NetworkSpec(new int[] {1, 28, 28}, 10,
                List.of(dev.distill.student.LayerSpec.dense(8)))
                .newNetwork(dev.distill.student.loss.DistillationLosses.hardLabels(), new dev.distill.student.TrainingSettings(1, 8, 1, 1, "adam",
                        0.01, 0.9, "constant", 0.5, 1, 0, 3), 1), teacher.toFile(), false);
        for (Path f : files) {
            Map<String, String> overrides = new java.util.HashMap<>(Map.of("kd.output-dir",
                    tmp.resolve(f.getFileName().toString()).toString()));
            var raw = JobConfig.load(f.toFile(), overrides).config();
            if ("load".equals(raw.getString("kd.teacher.source"))
                    && !Files.exists(Path.of(raw.getString("kd.teacher.model")))) {
                overrides.put("kd.teacher.model", teacher.toString());
            }
            // Examples over image files that `distill idx-to-images` makes get stand-in folders when not made yet.
            for (String split : List.of("train", "test")) {
                String key = "kd.dataset." + split;
                if ("image-folder".equals(raw.getString("kd.dataset.format")) && !raw.getString(key).isEmpty()
                        && !Files.exists(Path.of(raw.getString(key)))) {
                    overrides.put(key, Files.createDirectories(tmp.resolve("images-" + split)).toString());
                }
            }
            JobSettings s = JobSettings.from(JobConfig.load(f.toFile(), overrides));
            assertThat(s.dataset().numClasses()).as(f.toString()).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void fashionMnistExampleMeetsTheSizeBudgets(@TempDir Path tmp) throws Exception {
        JobSettings s = JobSettings.from(JobConfig.load(new File("../conf/fashion-mnist.conf"),
                Map.of("kd.output-dir", tmp.toString())));
        long teacher = s.teacher().architecture().newNetwork(dev.distill.student.loss.DistillationLosses.hardLabels(),
                s.teacher().training(), 1).numParams();
        long student = s.student().architecture().newNetwork(s.student().loss(), s.student().training(), 1).numParams();
        assertThat(teacher).isGreaterThanOrEqualTo(1_000_000);
        assertThat(student).isLessThanOrEqualTo(30_000);
        assertThat(s.inputShape()).containsExactly(1, 28, 28);
    }
}
