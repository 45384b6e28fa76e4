package dev.distill.job;

import org.junit.jupiter.api.Test;

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
    void everyExampleJobFileValidates() throws Exception {
        Path conf = Path.of("..", "conf");
        List<Path> files;
        try (Stream<Path> s = Files.list(conf)) {
            files = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            JobSettings s = JobSettings.from(JobConfig.load(f.toFile(), Map.of("kd.output-dir",
                    Files.createTempDirectory("conf-check").toString())));
            assertThat(s.dataset().numClasses()).as(f.toString()).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void fashionMnistExampleMeetsTheSizeBudgets() throws Exception {
        JobSettings s = JobSettings.from(JobConfig.load(new File("../conf/fashion-mnist.conf"),
                Map.of("kd.output-dir", Files.createTempDirectory("conf-check").toString())));
        long teacher = s.teacher().architecture().newNetwork(new dev.distill.student.KdLoss(1, 0),
                s.teacher().training(), 1).numParams();
        long student = s.student().architecture().newNetwork(s.student().loss(), s.student().training(), 1).numParams();
        assertThat(teacher).isGreaterThanOrEqualTo(1_000_000);
        assertThat(student).isLessThanOrEqualTo(30_000);
        assertThat(s.inputShape()).containsExactly(1, 28, 28);
    }
}
