package dev.distill.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/** Seeded synthetic data for tests: Gaussian blobs, and IDX files written the way the MNIST family is. */
public final class Synthetic {
    private Synthetic() {
    }

    /** {@code n} rows of {@code dims} features around one of {@code classes} random centres; label = centre. */
    public record Blobs(float[][] x, int[] y) {
    }

    public static Blobs blobs(int n, int dims, int classes, double spread, long seed) {
        Random r = new Random(seed);
        float[][] centres = new float[classes][dims];
        for (float[] c : centres) {
            for (int j = 0; j < dims; j++) {
                c[j] = (float) (r.nextGaussian() * 2);
            }
        }
        float[][] x = new float[n][dims];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
            for (int j = 0; j < dims; j++) {
                x[i][j] = (float) (centres[y[i]][j] + r.nextGaussian() * spread);
            }
        }
        return new Blobs(x, y);
    }

    /** Writes an IDX unsigned-byte file with the given dimensions; {@code gzip} compresses it. */
    public static Path writeIdx(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0x00000800 | dims.length);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream out = gzip ? new GZIPOutputStream(raw) : raw) {
            out.write(bytes.toByteArray());
        }
        return file;
    }

    /** Images whose pixel j of record i is (i * 7 + j) mod 256, and labels i mod classes. */
    public static void writeIdxPair(Path images, Path labels, int n, int rows, int cols, int classes, boolean gzip)
            throws IOException {
        byte[] px = new byte[n * rows * cols];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < rows * cols; j++) {
                px[i * rows * cols + j] = (byte) ((i * 7 + j) % 256);
            }
        }
        byte[] lab = new byte[n];
        for (int i = 0; i < n; i++) {
            lab[i] = (byte) (i % classes);
        }
        writeIdx(images, new int[] {n, rows, cols}, px, gzip);
        writeIdx(labels, new int[] {n}, lab, gzip);
    }
}
