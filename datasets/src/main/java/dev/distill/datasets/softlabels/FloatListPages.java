package dev.distill.datasets.softlabels;

import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.page.PageWriter;
import org.apache.parquet.column.statistics.Statistics;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One {@code list<float>} column of the soft-label schema (two-level LIST: {@code group (LIST) { repeated
 * float element; }}), encoded straight into Parquet V1 data pages, a whole array at a time.
 *
 * <p>Why: through parquet-mr's {@code ColumnWriter} every float is one call that also feeds two level
 * encoders and a statistics collector; for wide rows (1,000 logits, or the 784 features that schema
 * version 1 stored) that cost as much as a cheap teacher's inference. Here an array is one bulk copy of its
 * values (PLAIN: 4-byte little-endian IEEE 754) and two level runs: the repetition levels of a row are
 * {@code 0} then {@code 1 × (n − 1)}, the definition levels {@code 1 × n} (an empty array is one entry with
 * both levels 0). Levels are written in the RLE/bit-packing hybrid encoding as runs only (bit width 1, so
 * each run is a varint header {@code count << 1} and one value byte), behind the 4-byte little-endian length
 * that V1 pages put before each level section. Any Parquet reader decodes these pages; the tests read them
 * back with parquet-mr. Statistics are not collected for these columns (min/max of logits helps no query).
 */
final class FloatListPages {
    private final ColumnDescriptor column;
    private final PageWriter pages;
    private final int pageBytes;
    private final LevelRuns repetition = new LevelRuns();
    private final LevelRuns definition = new LevelRuns();
    private byte[] values;
    private int valueBytes;
    private int entries;
    private int rows;

    /** Writes to {@code pages}, starting a new page once {@code pageBytes} of values are buffered. */
    FloatListPages(ColumnDescriptor column, PageWriter pages, int pageBytes) {
        if (column.getMaxRepetitionLevel() != 1 || column.getMaxDefinitionLevel() != 1) {
            throw new IllegalArgumentException(column + " is not a required two-level list of floats");
        }
        this.column = column;
        this.pages = pages;
        this.pageBytes = pageBytes;
        this.values = new byte[Math.min(pageBytes, 1 << 16) + 64];
    }

    /** Appends one row's array; pages end on row boundaries, as Parquet requires. */
    void write(float[] row) throws IOException {
        if (row.length == 0) {
            repetition.add(0, 1);
            definition.add(0, 1);
            entries++;
        } else {
            repetition.add(0, 1);
            if (row.length > 1) {
                repetition.add(1, row.length - 1);
            }
            definition.add(1, row.length);
            entries += row.length;
            int need = valueBytes + 4 * row.length;
            if (need > values.length) {
                values = Arrays.copyOf(values, Math.max(need, values.length * 2));
            }
            ByteBuffer.wrap(values, valueBytes, 4 * row.length).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(row);
            valueBytes = need;
        }
        rows++;
        if (valueBytes >= pageBytes) {
            flush();
        }
    }

    /** Writes the buffered rows as one page (nothing when no row is buffered). */
    void flush() throws IOException {
        if (rows == 0) {
            return;
        }
        BytesInput page = BytesInput.concat(repetition.encode(), definition.encode(), BytesInput.from(values, 0, valueBytes));
        pages.writePage(page, entries, rows, Statistics.noopStats(column.getPrimitiveType()),
                Encoding.RLE, Encoding.RLE, Encoding.PLAIN);
        repetition.clear();
        definition.clear();
        valueBytes = 0;
        entries = 0;
        rows = 0;
    }

    /** Bytes buffered for the current page. */
    long bufferedBytes() {
        return valueBytes + repetition.size() * 6L + definition.size() * 6L;
    }

    /** Runs of a level of bit width 1, merged as they are added, encoded as RLE runs of the hybrid encoding. */
    static final class LevelRuns {
        private int[] value = new int[64];
        private long[] count = new long[64];
        private int n;

        void add(int level, long times) {
            if (n > 0 && value[n - 1] == level) {
                count[n - 1] += times;
                return;
            }
            if (n == value.length) {
                value = Arrays.copyOf(value, n * 2);
                count = Arrays.copyOf(count, n * 2);
            }
            value[n] = level;
            count[n] = times;
            n++;
        }

        int size() {
            return n;
        }

        void clear() {
            n = 0;
        }

        /** The 4-byte little-endian length, then per run: ULEB128 varint of {@code count << 1}, one value byte. */
        BytesInput encode() {
            byte[] out = new byte[4 + n * 11];
            int p = 4;
            for (int i = 0; i < n; i++) {
                for (long header = count[i] << 1; ; header >>>= 7) {
                    if ((header & ~0x7FL) == 0) {
                        out[p++] = (byte) header;
                        break;
                    }
                    out[p++] = (byte) ((header & 0x7F) | 0x80);
                }
                out[p++] = (byte) value[i];
            }
            int len = p - 4;
            out[0] = (byte) len;
            out[1] = (byte) (len >>> 8);
            out[2] = (byte) (len >>> 16);
            out[3] = (byte) (len >>> 24);
            return BytesInput.from(out, 0, p);
        }
    }
}
