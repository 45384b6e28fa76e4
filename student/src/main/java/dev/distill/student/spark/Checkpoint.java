package dev.distill.student.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
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
 * driver never leaves a half checkpoint. Binary layout: magic "KDCK", version 3, fingerprint (UTF), epoch,
 * iteration, three length-prefixed float arrays, then the CRC32 of every byte before it. The checksum is
 * the file's own: a damaged checkpoint is refused on any file system, with or without Hadoop's {@code .crc}
 * companion. Versions 1 and 2 (no checksum) are not resumed. No Java serialisation.
 */
public record Checkpoint(String fingerprint, int epoch, int iteration, float[] params, float[] updaterState,
                         float[] hookState) {
    private static final int MAGIC = 0x4B44434B;
    private static final int VERSION = 3;

    /** The cause when a checkpoint was written by an earlier version (no checksum): training starts afresh. */
    public static final class OutdatedException extends IOException {
        private static final long serialVersionUID = 1L;

        OutdatedException(String message) {
            super(message);
        }
    }

    /** {@link #read}, or null with a note in the log when an earlier version wrote the file. */
    public static Checkpoint readCurrent(Configuration conf, String file, org.slf4j.Logger log, String name) {
        try {
            return read(conf, file);
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof OutdatedException o) {
                log.info("{}: ignoring checkpoint {}: {}; training from the start", name, file, o.getMessage());
                return null;
            }
            throw e;
        }
    }

    /** Writes the checkpoint to {@code file} atomically (see {@link dev.distill.datasets.AtomicFile}). */
    public void write(Configuration conf, String file) {
        dev.distill.datasets.AtomicFile.write(conf, file, raw -> {
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            DataOutputStream out = new DataOutputStream(new java.util.zip.CheckedOutputStream(
                    new java.io.BufferedOutputStream(raw, 1 << 16), crc));
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(fingerprint);
            out.writeInt(epoch);
            out.writeInt(iteration);
            writeFloats(out, params);
            writeFloats(out, updaterState);
            writeFloats(out, hookState);
            out.flush();
            new DataOutputStream(raw).writeInt((int) crc.getValue());
        });
    }

    /**
     * The checkpoint in {@code file}, or null when there is none. Throws {@link UncheckedIOException} naming the
     * file when it is damaged (checksum, truncation, impossible lengths), with {@link OutdatedException} as the
     * cause when an earlier version wrote it.
     */
    public static Checkpoint read(Configuration conf, String file) {
        Path p = new Path(file);
        try {
            FileSystem fs = p.getFileSystem(conf);
            if (!fs.exists(p)) {
                return null;
            }
            long length = fs.getFileStatus(p).getLen();
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            try (FSDataInputStream raw = fs.open(p);
                 java.io.BufferedInputStream buffered = new java.io.BufferedInputStream(raw, 1 << 16)) {
                DataInputStream in = new DataInputStream(new java.util.zip.CheckedInputStream(buffered, crc));
                if (length < 12 || in.readInt() != MAGIC) {
                    throw new IOException("not a distill checkpoint");
                }
                int version = in.readInt();
                if (version == 1 || version == 2) {
                    throw new OutdatedException("written by an earlier version of distill, without a checksum");
                }
                if (version != VERSION) {
                    throw new IOException("checkpoint version " + version + "; this version of distill reads " + VERSION);
                }
                String fp = in.readUTF();
                int epoch = in.readInt();
                int iteration = in.readInt();
                float[] params = readFloats(in, length);
                float[] state = readFloats(in, length);
                float[] hooks = readFloats(in, length);
                long computed = crc.getValue();
                int stored = new DataInputStream(buffered).readInt();   // past the checked bytes
                if ((int) computed != stored) {
                    throw new IOException("checksum mismatch: the file is damaged");
                }
                if (buffered.read() != -1) {
                    throw new IOException("unexpected bytes after the checksum");
                }
                return new Checkpoint(fp, epoch, iteration, params, state, hooks);
            }
        } catch (IOException e) {
            String why = e instanceof java.io.EOFException ? "truncated" : e.getMessage();
            throw new UncheckedIOException("cannot read checkpoint " + file + " (" + why
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
