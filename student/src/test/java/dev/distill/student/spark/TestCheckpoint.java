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
            assertThat(files.map(p -> p.getFileName().toString())).as("no temporary file left").containsExactly("ck.bin");
        }
        byte[] bytes = Files.readAllBytes(Path.of(file));
        Files.write(Path.of(file), java.util.Arrays.copyOf(bytes, 30));
        Files.deleteIfExists(dir.resolve(".ck.bin.crc"));
        assertThatThrownBy(() -> Checkpoint.read(conf, file))
                .hasMessageStartingWith("cannot read checkpoint " + file + " (")
                .hasMessageEndingWith("); delete it to start training afresh");
    }

    /** Without Hadoop's .crc companion the file's own checksum still catches every flipped bit. */
    @Test
    void aFlippedBitIsRefusedWithoutTheCrcCompanion() throws Exception {
        Configuration conf = new Configuration();
        String file = dir.resolve("ck.bin").toString();
        new Checkpoint("fp", 2, 40, new float[] {1, 2, 3, 4}, new float[] {5}, new float[0]).write(conf, file);
        byte[] good = Files.readAllBytes(Path.of(file));
        for (int bit = 0; bit < good.length * 8; bit++) {
            byte[] bad = good.clone();
            bad[bit / 8] ^= (byte) (1 << (bit % 8));
            Files.write(Path.of(file), bad);
            assertThatThrownBy(() -> Checkpoint.read(conf, file)).as("bit %d", bit)
                    .isInstanceOf(java.io.UncheckedIOException.class)
                    .hasMessageStartingWith("cannot read checkpoint " + file + " (");
        }
        Files.write(Path.of(file), java.util.Arrays.copyOf(good, good.length + 1));
        assertThatThrownBy(() -> Checkpoint.read(conf, file))
                .hasMessage("cannot read checkpoint " + file + " (unexpected bytes after the checksum); delete it to"
                        + " start training afresh");
        byte[] flipped = good.clone();
        flipped[17] ^= 1;   // in the iteration counter: only the checksum notices
        Files.write(Path.of(file), flipped);
        assertThatThrownBy(() -> Checkpoint.read(conf, file))
                .hasMessage("cannot read checkpoint " + file + " (checksum mismatch: the file is damaged); delete it"
                        + " to start training afresh");
        Files.write(Path.of(file), good);
        assertThat(Checkpoint.read(conf, file).params()).containsExactly(1, 2, 3, 4);
    }

    /** A version-2 file (no checksum) is not resumed: the trainer logs why and starts afresh. */
    @Test
    void anEarlierVersionIsIgnoredWithANote() throws Exception {
        Configuration conf = new Configuration();
        Path file = dir.resolve("old.bin");
        try (var out = new java.io.DataOutputStream(Files.newOutputStream(file))) {
            out.writeInt(0x4B44434B);
            out.writeInt(2);
            out.writeUTF("fp");
            out.writeInt(0);
            out.writeInt(10);
            for (int i = 0; i < 3; i++) {
                out.writeInt(1);
                out.writeFloat(1f);
            }
        }
        assertThatThrownBy(() -> Checkpoint.read(conf, file.toString()))
                .hasMessage("cannot read checkpoint " + file + " (written by an earlier version of distill, without a"
                        + " checksum); delete it to start training afresh")
                .hasCauseInstanceOf(Checkpoint.OutdatedException.class);
        assertThat(Checkpoint.readCurrent(conf, file.toString(), org.slf4j.LoggerFactory.getLogger("test"), "student"))
                .isNull();
    }
}
