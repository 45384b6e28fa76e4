package dev.distill.datasets;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The IDX format of the MNIST family (LeCun et al.): a magic number {@code 0x00 0x00 type ndims}, then
 * {@code ndims} big-endian int32 dimension sizes, then the data. Only unsigned bytes ({@code type 0x08}) are
 * used by the MNIST family and supported here. Files may be gzip-compressed; that is detected from the
 * first two bytes, not the name.
 */
public final class IdxFile {
    private static final int UNSIGNED_BYTE = 0x08;

    /** The dimensions of an IDX file; {@code dims[0]} is the number of records. */
    public record Header(int[] dims) {
        public int records() {
            return dims[0];
        }

        /** Values per record: the product of all dimensions but the first. */
        public int recordLength() {
            int n = 1;
            for (int i = 1; i < dims.length; i++) {
                n = Math.multiplyExact(n, dims[i]);
            }
            return n;
        }

        @Override
        public String toString() {
            return Arrays.toString(dims);
        }
    }

    private IdxFile() {
    }

    /** Wraps {@code raw} in a decompressor when it starts with the gzip magic bytes. */
    public static InputStream maybeGunzip(InputStream raw) throws IOException {
        PushbackInputStream in = new PushbackInputStream(new BufferedInputStream(raw, 1 << 16), 2);
        int b0 = in.read();
        int b1 = in.read();
        if (b1 >= 0) {
            in.unread(b1);
        }
        if (b0 >= 0) {
            in.unread(b0);
        }
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return in;
    }

    /** Reads and checks the header; {@code name} is used in error messages. */
    public static Header readHeader(DataInputStream in, String name) throws IOException {
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new IOException(name + ": empty or truncated IDX file (no header)");
        }
        int type = (magic >>> 8) & 0xff;
        int ndims = magic & 0xff;
        if ((magic >>> 16) != 0 || ndims < 1 || ndims > 4) {
            throw new IOException(name + ": not an IDX file (magic number 0x" + Integer.toHexString(magic)
                    + "; expected 0x000008nn with 1-4 dimensions)");
        }
        if (type != UNSIGNED_BYTE) {
            throw new IOException(name + ": IDX element type 0x" + Integer.toHexString(type)
                    + " is not supported; only unsigned bytes (0x08), as in the MNIST family");
        }
        int[] dims = new int[ndims];
        for (int i = 0; i < ndims; i++) {
            dims[i] = in.readInt();
            if (dims[i] <= 0) {
                throw new IOException(name + ": IDX dimension " + i + " is " + dims[i] + "; must be > 0");
            }
        }
        return new Header(dims);
    }

    /** Skips {@code n} bytes exactly, or fails naming the file as truncated. */
    public static void skipFully(InputStream in, long n, String name) throws IOException {
        long left = n;
        while (left > 0) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException(name + ": truncated IDX file (ended " + left + " bytes early)");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    /** Reads {@code buf.length} bytes exactly, or fails naming the file as truncated. */
    public static void readFully(DataInputStream in, byte[] buf, String name) throws IOException {
        try {
            in.readFully(buf);
        } catch (EOFException e) {
            throw new IOException(name + ": truncated IDX file (a record ends past the end of the file)");
        }
    }
}
