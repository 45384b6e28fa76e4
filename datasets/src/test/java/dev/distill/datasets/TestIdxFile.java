package dev.distill.datasets;

import dev.distill.testing.Synthetic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestIdxFile {
    @TempDir
    Path dir;

    private IdxFile.Header header(Path p) throws IOException {
        try (InputStream raw = Files.newInputStream(p);
             DataInputStream in = new DataInputStream(IdxFile.maybeGunzip(raw))) {
            return IdxFile.readHeader(in, p.toString());
        }
    }

    @Test
    void readsHeadersOfPlainAndGzippedFiles() throws IOException {
        Synthetic.writeIdxPair(dir.resolve("img"), dir.resolve("lab"), 5, 3, 4, 2, false);
        Synthetic.writeIdxPair(dir.resolve("img.gz"), dir.resolve("lab.gz"), 5, 3, 4, 2, true);
        for (String name : new String[] {"img", "img.gz"}) {
            IdxFile.Header h = header(dir.resolve(name));
            assertThat(h.dims()).containsExactly(5, 3, 4);
            assertThat(h.records()).isEqualTo(5);
            assertThat(h.recordLength()).isEqualTo(12);
        }
        assertThat(header(dir.resolve("lab.gz")).dims()).containsExactly(5);
    }

    @Test
    void rejectsWhatIsNotIdx() throws IOException {
        Path p = Files.write(dir.resolve("x.csv"), "a,b,c\n1,2,3\n".getBytes());
        assertThatThrownBy(() -> header(p)).isInstanceOf(IOException.class)
                .hasMessage(p + ": not an IDX file (magic number 0x612c622c; expected 0x000008nn with 1-4 dimensions)");
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        assertThatThrownBy(() -> header(empty)).hasMessage(empty + ": empty or truncated IDX file (no header)");
        Path floats = Synthetic.writeIdx(dir.resolve("f"), new int[] {1}, new byte[4], false);
        byte[] b = Files.readAllBytes(floats);
        b[2] = 0x0d;
        Files.write(floats, b);
        assertThatThrownBy(() -> header(floats))
                .hasMessage(floats + ": IDX element type 0xd is not supported; only unsigned bytes (0x08), as in the MNIST family");
    }

    @Test
    void truncatedDataIsReportedNotSilentlyShort() throws IOException {
        Path p = Synthetic.writeIdx(dir.resolve("t"), new int[] {3, 2}, new byte[6], false);
        byte[] all = Files.readAllBytes(p);
        Files.write(p, java.util.Arrays.copyOf(all, all.length - 1));
        try (DataInputStream in = new DataInputStream(IdxFile.maybeGunzip(Files.newInputStream(p)))) {
            IdxFile.readHeader(in, "t");
            IdxFile.skipFully(in, 4, "t");
            assertThatThrownBy(() -> IdxFile.readFully(in, new byte[2], "t"))
                    .hasMessage("t: truncated IDX file (a record ends past the end of the file)");
        }
    }
}
