package dev.distill.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class TestModelFile {
    @TempDir
    Path dir;

    /** A three-layer model; the middle layer is 80% zeros, so it is written sparse. */
    static Int8Model randomModel(long seed) {
        Random r = new Random(seed);
        int[] widths = {12, 8, 6, 4};
        List<DenseLayer> layers = new java.util.ArrayList<>();
        for (int l = 0; l < 3; l++) {
            int in = widths[l];
            int out = widths[l + 1];
            byte[] w = new byte[in * out];
            for (int i = 0; i < w.length; i++) {
                w[i] = l == 1 && r.nextInt(5) > 0 ? 0 : (byte) (r.nextInt(255) - 127);
            }
            float[] s = new float[out];
            int[] b = new int[out];
            for (int j = 0; j < out; j++) {
                s[j] = 0.01f + r.nextFloat() * 0.02f;
                b[j] = r.nextInt(2001) - 1000;
            }
            layers.add(new DenseLayer(in, out, l < 2 ? DenseLayer.Activation.RELU : DenseLayer.Activation.IDENTITY,
                    s, w, b, l < 2 ? 0.05f : 0f, l < 2 ? 3 : 0));
        }
        return new Int8Model(12, 1 / 255f, 0, layers);
    }

    static byte[] bytes(Int8Model m) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ModelFile.write(m, out);
        return out.toByteArray();
    }

    @Test
    void roundTripsDenseAndSparseLayersExactly() throws Exception {
        Int8Model m = randomModel(1);
        Path f = dir.resolve("m.kdi8");
        Files.write(f, bytes(m));
        Int8Model back = ModelFile.read(f);
        for (int l = 0; l < 3; l++) {
            DenseLayer a = (DenseLayer) m.layers().get(l);
            DenseLayer b = (DenseLayer) back.layers().get(l);
            assertThat(b.weights()).containsExactly(a.weights());
            assertThat(b.weightScales()).containsExactly(a.weightScales());
            assertThat(b.bias()).containsExactly(a.bias());
            assertThat(b.activation()).isEqualTo(a.activation());
        }
        Random r = new Random(2);
        for (int k = 0; k < 50; k++) {
            float[] x = new float[12];
            for (int i = 0; i < 12; i++) {
                x[i] = r.nextFloat();
            }
            assertThat(back.logits(x)).containsExactly(m.logits(x));
        }
    }

    @Test
    void namesEachKindOfDamage() throws Exception {
        byte[] good = bytes(randomModel(3));
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(Arrays.copyOf(good, 10)), "m"))
                .isInstanceOf(ModelFileException.class).hasMessage("m: truncated: 10 bytes, shorter than the 16-byte header");
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(magic), "m"))
                .hasMessage("m: not a distill int8 model (no KDI8 magic)");
        byte[] version = good.clone();
        version[4] = 9;
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(version), "m"))
                .hasMessage("m: model file version 9 is not supported; this runtime reads versions 1 to 4");
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).putInt(8, -1);
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(huge), "m"))
                .hasMessage("m: declares a payload of 4294967295 bytes; at most 268435456 are accepted");
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(Arrays.copyOf(good, good.length - 7)), "m"))
                .hasMessageStartingWith("m: truncated: the payload inflates to ");
        byte[] crc = good.clone();
        crc[13] ^= 1;
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(crc), "m"))
                .hasMessageStartingWith("m: checksum mismatch");
    }

    /** The parser's own checks, behind a valid frame: a layer claiming a width it does not have. */
    @Test
    void impossibleSizesInsideAValidFrameAreRefusedBeforeAllocating() throws Exception {
        byte[] payload = payload(bytes(randomModel(4)));
        ByteBuffer.wrap(payload).putInt(0, 32_768);
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(frame(payload)), "m"))
                .hasMessage("m: layer 0 takes 12 inputs but the previous layer gives 32768");
        byte[] p2 = payload(bytes(randomModel(4)));
        ByteBuffer.wrap(p2).putInt(12, 1 << 20);
        assertThatThrownBy(() -> ModelFile.read(new ByteArrayInputStream(frame(p2)), "m"))
                .hasMessage("m: layer count is 1048576; must be in [1, 256]");
    }

    @Test
    void thousandsOfMutationsOnlyEverGiveModelFileException() throws Exception {
        byte[] good = bytes(randomModel(5));
        byte[] goodPayload = payload(good);
        Random r = new Random(6);
        int[] outcomes = fuzz(good, goodPayload, 6000, r);
        assertThat(outcomes[1]).as("rejected").isGreaterThan(3000);
        assertThat(outcomes[0] + outcomes[1]).isEqualTo(6000);
    }

    /**
     * Reads {@code trials} damaged copies of a valid file (every other one a damaged payload in a valid frame,
     * so that the damage gets past the checksum), running each model that loads, within 60 seconds. Any
     * outcome but a model or a {@link ModelFileException} fails. Returns {loaded, rejected}.
     */
    static int[] fuzz(byte[] good, byte[] goodPayload, int trials, Random r) {
        int[] outcomes = new int[2];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int trial = 0; trial < trials; trial++) {
                byte[] candidate = trial % 2 == 0 ? mutate(good, r) : frame(mutate(goodPayload, r));
                try {
                    Int8Model m = ModelFile.read(new ByteArrayInputStream(candidate), "fuzz");
                    m.logits(new float[m.inputLength()]);
                    outcomes[0]++;
                } catch (ModelFileException e) {
                    assertThat(e.getMessage()).startsWith("fuzz: ");
                    outcomes[1]++;
                } catch (Throwable t) {
                    fail("trial " + trial + " threw " + t, t);
                }
            }
        });
        return outcomes;
    }

    private static byte[] mutate(byte[] in, Random r) {
        byte[] b = in.clone();
        switch (r.nextInt(4)) {
            case 0 -> b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(8));
            case 1 -> {
                for (int k = 0; k < 1 + r.nextInt(4); k++) {
                    b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                }
            }
            case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length));
            default -> {
                int at = r.nextInt(Math.max(1, b.length - 4));
                ByteBuffer.wrap(b).putInt(at, r.nextBoolean() ? Integer.MAX_VALUE : r.nextInt());
            }
        }
        return b;
    }

    /** The uncompressed payload of a valid file. */
    static byte[] payload(byte[] file) throws Exception {
        int length = ByteBuffer.wrap(file).getInt(8);
        Inflater inf = new Inflater();
        inf.setInput(file, 16, file.length - 16);
        byte[] out = new byte[length];
        assertThat(inf.inflate(out)).isEqualTo(length);
        inf.end();
        return out;
    }

    /** A valid frame (magic, version, length, CRC, deflate) around any payload. */
    static byte[] frame(byte[] payload) {
        CRC32 crc = new CRC32();
        crc.update(payload);
        Deflater d = new Deflater();
        d.setInput(payload);
        d.finish();
        byte[] buf = new byte[payload.length * 2 + 64];
        int n = d.deflate(buf);
        d.end();
        ByteBuffer b = ByteBuffer.allocate(16 + n);
        b.put(ModelFile.MAGIC).put((byte) ModelFile.VERSION).put(new byte[3]).putInt(payload.length).putInt((int) crc.getValue());
        b.put(buf, 0, n);
        return b.array();
    }
}
