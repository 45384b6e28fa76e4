package dev.distill.student.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Training state after a completed epoch: flat parameters, flat updater state, the state of training hooks
 * (quantisation ranges), the epoch and iteration counters, and a fingerprint of the settings that produced
 * it (a checkpoint from other settings is not resumed). Written to a temporary file and renamed, so a killed
 * driver never leaves a half checkpoint. Binary layout: magic "KDCK", version 2, fingerprint (UTF), epoch,
 * iteration, then three length-prefixed float arrays (version 1 had no hook state). No Java serialisation.
 */
public record Checkpoint(String fingerprint, int epoch, int iteration, float[] params, float[] updaterState,
                         float[] hookState) {
    private static final int MAGIC = 0x4B44434B;
    private static final int VERSION = 2;

    public void write(Configuration conf, String file) {
        Path dst = new Path(file);
        Path tmp = new Path(dst.getParent(), "." + dst.getName() + ".tmp");
        try {
            FileSystem fs = dst.getFileSystem(conf);
            try (FSDataOutputStream raw = fs.create(tmp, true);
                 DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(raw, 1 << 16))) {
                out.writeInt(MAGIC);
                out.writeInt(VERSION);
                out.writeUTF(fingerprint);
                out.writeInt(epoch);
                out.writeInt(iteration);
                writeFloats(out, params);
                writeFloats(out, updaterState);
                writeFloats(out, hookState);
            }
            fs.delete(dst, false);
            if (!fs.rename(tmp, dst)) {
                throw new IOException("rename " + tmp + " -> " + dst + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** The checkpoint in {@code file}, or null when there is none. */
    public static Checkpoint read(Configuration conf, String file) {
        Path p = new Path(file);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                return null;
            }
            try (FSDataInputStream raw = fs.open(p);
                 DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw, 1 << 16))) {
                int version = in.readInt() == MAGIC ? in.readInt() : -1;
                if (version != 1 && version != VERSION) {
                    throw new IOException("not a distill checkpoint (version 1 or " + VERSION + ")");
                }
                String fp = in.readUTF();
                int epoch = in.readInt();
                int iteration = in.readInt();
                float[] params = readFloats(in, fs.getFileStatus(p).getLen());
                float[] state = readFloats(in, fs.getFileStatus(p).getLen());
                float[] hooks = version >= 2 ? readFloats(in, fs.getFileStatus(p).getLen()) : new float[0];
                return new Checkpoint(fp, epoch, iteration, params, state, hooks);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + file + " (" + e.getMessage()
                    + "); delete it to start training afresh", e);
        }
    }

    private static void writeFloats(DataOutputStream out, float[] xs) throws IOException {
        out.writeInt(xs.length);
        for (float x : xs) {
            out.writeFloat(x);
        }
    }

    private static float[] readFloats(DataInputStream in, long fileLength) throws IOException {
        int n = in.readInt();
        if (n < 0 || 4L * n > fileLength) {
            throw new IOException("array length " + n + " does not fit in a file of " + fileLength + " bytes");
        }
        float[] xs = new float[n];
        for (int i = 0; i < n; i++) {
            xs[i] = in.readFloat();
        }
        return xs;
    }

    /** SHA-256 of the parts, each followed by a zero byte (so "ab","c" and "a","bc" differ). */
    static String fingerprintOf(String... parts) {
        StringBuilder b = new StringBuilder();
        for (String s : parts) {
            b.append(s).append('\0');
        }
        return dev.distill.datasets.Sha256.of(b.toString());
    }
}
