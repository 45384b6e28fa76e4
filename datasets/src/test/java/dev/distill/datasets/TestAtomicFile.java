package dev.distill.datasets;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestAtomicFile {
    @TempDir
    Path dir;

    private static AtomicFile.Writer text(String s) {
        return out -> out.write(s.getBytes(StandardCharsets.UTF_8));
    }

    private String[] names() throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }

    @Test
    void replacesAFileAndLeavesNothingElse() throws Exception {
        Configuration conf = new Configuration();
        Path file = dir.resolve("sub").resolve("a.json");
        AtomicFile.write(conf, file.toString(), text("one"));
        AtomicFile.write(conf, "file:" + file, text("two"));
        assertThat(Files.readString(file)).isEqualTo("two");
        assertThat(names()).containsExactly("sub");
        try (var files = Files.list(file.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("a.json");
        }
    }

    /** A writer that fails keeps the old content and leaves no temporary file. */
    @Test
    void aFailedWriteKeepsTheOldContent() throws Exception {
        Configuration conf = new Configuration();
        Path file = dir.resolve("m.zip");
        AtomicFile.write(conf, file.toString(), text("old"));
        assertThatThrownBy(() -> AtomicFile.write(conf, file.toString(), out -> {
            out.write(1);
            throw new IOException("disk full");
        })).hasMessage("cannot write " + file + ": disk full");
        assertThat(Files.readString(file)).isEqualTo("old");
        assertThat(names()).containsExactly("m.zip");
    }

    /** A .crc companion left by Hadoop's local file system for an earlier version would not match the new file. */
    @Test
    void removesAStaleCrcCompanion() throws Exception {
        Configuration conf = new Configuration();
        Path file = dir.resolve("r.json");
        var hadoop = org.apache.hadoop.fs.FileSystem.getLocal(conf);
        try (var out = hadoop.create(new org.apache.hadoop.fs.Path(file.toString()))) {
            out.write("old".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(names()).containsExactly(".r.json.crc", "r.json");
        AtomicFile.write(conf, file.toString(), text("new content"));
        assertThat(names()).containsExactly("r.json");
        try (var in = hadoop.open(new org.apache.hadoop.fs.Path(file.toString()))) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("new content");
        }
    }

    /** Paths with spaces and non-ASCII characters, plain or as file: URIs, escaped or not. */
    @Test
    void anyPathTheFileSystemAcceptsWorks() throws Exception {
        Configuration conf = new Configuration();
        Path odd = dir.resolve("été 東京 #1").resolve("r.json");
        AtomicFile.write(conf, odd.toString(), text("a"));
        AtomicFile.write(conf, "file:" + odd, text("b"));
        assertThat(Files.readString(odd)).isEqualTo("b");
        assertThat(DatasetSettings.localPath(odd.toUri().toString())).isEqualTo(odd);
        assertThat(DatasetSettings.localPath("file://" + odd)).isEqualTo(odd);
        assertThat(DatasetSettings.localPath("file:" + odd)).isEqualTo(odd);
        assertThat(DatasetSettings.localPath("hdfs://nn/x")).isNull();
    }

    @Test
    void namesTemporaries() {
        String tmp = AtomicFile.temporaryName("model.zip");
        assertThat(tmp).startsWith(".model.zip.tmp-").hasSize(".model.zip.tmp-".length() + 8);
        assertThat(AtomicFile.isTemporary(tmp)).isTrue();
        assertThat(AtomicFile.isTemporary(".train.tmp-3f2a")).isTrue();
        assertThat(AtomicFile.isTemporary("model.zip")).isFalse();
        assertThat(AtomicFile.isTemporary(".r.json.crc")).isFalse();
    }
}
