package dev.distill.student.spark;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestCheckpoint {
    @TempDir
    Path dir;

    @Test
    void roundTripsAndRefusesDamage() throws Exception {
        Configuration conf = new Configuration();
        String file = dir.resolve("ck.bin").toString();
        assertThat(Checkpoint.read(conf, file)).isNull();
        Checkpoint ck = new Checkpoint("fp", 3, 120, new float[] {1, 2, 3}, new float[] {4, 5}, new float[] {0.5f, 6, 1});
        ck.write(conf, file);
        Checkpoint back = Checkpoint.read(conf, file);
        assertThat(back.fingerprint()).isEqualTo("fp");
        assertThat(back.epoch()).isEqualTo(3);
        assertThat(back.iteration()).isEqualTo(120);
        assertThat(back.params()).containsExactly(1, 2, 3);
        assertThat(back.updaterState()).containsExactly(4, 5);
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("ck.bin", ".ck.bin.crc");
        }
        byte[] bytes = Files.readAllBytes(Path.of(file));
        Files.write(Path.of(file), java.util.Arrays.copyOf(bytes, 30));
        Files.deleteIfExists(dir.resolve(".ck.bin.crc"));
        assertThatThrownBy(() -> Checkpoint.read(conf, file))
                .hasMessageStartingWith("cannot read checkpoint " + file + " (")
                .hasMessageEndingWith("); delete it to start training afresh");
    }
}
