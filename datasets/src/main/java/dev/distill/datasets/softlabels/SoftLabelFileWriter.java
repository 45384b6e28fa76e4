package dev.distill.datasets.softlabels;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnWriteStore;
import org.apache.parquet.column.ColumnWriter;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.hadoop.CodecFactory;
import org.apache.parquet.hadoop.ColumnChunkPageWriteStore;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Writes one soft-label Parquet file with the {@link SoftLabelMetadata} in the footer.
 *
 * <p>Why not {@code ParquetWriter} with a {@code WriteSupport}: its record consumer does bookkeeping for
 * every value, and a soft-label row can hold thousands of logits. Here {@code id}, {@code label} and the
 * top-k scalars go through parquet-mr's column writers (with statistics), and the float arrays through
 * {@link FloatListPages}, which encodes a whole array at a time into data pages.
 *
 * <p>The arrays use Parquet's two-level LIST form ({@code group (LIST) { repeated float element; }}), which
 * every reader accepts under the format's list compatibility rules (Spark, pyarrow/pandas and DuckDB read
 * it as {@code list<float>}).
 */
final class SoftLabelFileWriter implements Closeable {
    static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              optional int32 label;
              required group teacher_logits (LIST) { repeated float element; }
            }""");
    /** With top-k soft labels: the k largest teacher logits, their classes, and log Σ exp over all logits. */
    static final MessageType SCHEMA_TOPK = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              optional int32 label;
              required group topk_index (LIST) { repeated int32 element; }
              required group topk_logit (LIST) { repeated float element; }
              required float logsumexp;
            }""");
    /** With stored views: each view's box (V × 5 ints) and the teacher's logits on it (V × C). */
    static final MessageType SCHEMA_VIEWS = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              optional int32 label;
              required group teacher_logits (LIST) { repeated float element; }
              required group view_boxes (LIST) { repeated int32 element; }
              required group view_logits (LIST) { repeated float element; }
            }""");
    /**
     * With stored views as top-k: the image's own top k (as {@link #SCHEMA_TOPK}), each view's box, and each
     * view's k largest logits (V × k classes and logits, view after view) and logsumexp (V).
     */
    static final MessageType SCHEMA_VIEWS_TOPK = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              optional int32 label;
              required group topk_index (LIST) { repeated int32 element; }
              required group topk_logit (LIST) { repeated float element; }
              required float logsumexp;
              required group view_boxes (LIST) { repeated int32 element; }
              required group view_topk_index (LIST) { repeated int32 element; }
              required group view_topk_logit (LIST) { repeated float element; }
              required group view_logsumexp (LIST) { repeated float element; }
            }""");
    /** The float-list columns, written a whole array at a time by {@link FloatListPages}; the rest by parquet-mr. */
    private static final java.util.Set<String> FLOAT_LISTS = java.util.Set.of("teacher_logits", "topk_logit",
            "view_logits", "view_topk_logit", "view_logsumexp");
    static final long ROW_GROUP_BYTES = 128L << 20;

    private final ParquetProperties props;
    private final ParquetFileWriter file;
    private final CodecFactory codecs;
    private final CodecFactory.BytesCompressor compressor;
    private final Map<String, String> footer;
    private final long rowGroupBytes;
    private final int topK;
    private final MessageType schema;
    private final boolean views;
    /** The schema without the float lists: the columns parquet-mr's column writers write. */
    private final MessageType scalars;
    private ColumnWriter viewBoxes;
    private FloatListPages viewLogits;
    private ColumnWriter viewTopIndex;
    private FloatListPages viewLogSumExp;
    private ColumnWriter topIndex;
    private ColumnWriter logSumExp;
    /** Every float-list column of the row group, with its descriptor. */
    private final List<FloatListPages> floatLists = new java.util.ArrayList<>();
    private final List<ColumnDescriptor> floatColumns = new java.util.ArrayList<>();
    private ColumnChunkPageWriteStore pages;
    private ColumnWriteStore columns;
    private ColumnWriter id;
    private ColumnWriter label;
    private FloatListPages logits;
    private long rowsInGroup;

    SoftLabelFileWriter(Configuration conf, Path path, Map<String, String> footer, CompressionCodecName codec)
            throws IOException {
        this(conf, path, footer, codec, ROW_GROUP_BYTES, 0);
    }

    /** As above with a row-group size (tests use small ones to cover several row groups). */
    SoftLabelFileWriter(Configuration conf, Path path, Map<String, String> footer, CompressionCodecName codec,
                        long rowGroupBytes) throws IOException {
        this(conf, path, footer, codec, rowGroupBytes, 0);
    }

    /** With {@code topK} > 0, each row keeps only its teacher's k largest logits (see {@link #SCHEMA_TOPK}). */
    SoftLabelFileWriter(Configuration conf, Path path, Map<String, String> footer, CompressionCodecName codec,
                        long rowGroupBytes, int topK) throws IOException {
        this(conf, path, footer, codec, rowGroupBytes, topK, false);
    }

    /**
     * With {@code views}, each row also holds its stored views (see {@link #SCHEMA_VIEWS}, and with top-k
     * {@link #SCHEMA_VIEWS_TOPK}).
     */
    SoftLabelFileWriter(Configuration conf, Path path, Map<String, String> footer, CompressionCodecName codec,
                        long rowGroupBytes, int topK, boolean views) throws IOException {
        this.footer = footer;
        this.rowGroupBytes = rowGroupBytes;
        this.topK = topK;
        this.views = views;
        this.schema = views ? (topK > 0 ? SCHEMA_VIEWS_TOPK : SCHEMA_VIEWS) : topK > 0 ? SCHEMA_TOPK : SCHEMA;
        this.scalars = new MessageType(schema.getName(), schema.getFields().stream()
                .filter(f -> !FLOAT_LISTS.contains(f.getName())).toList());
        this.props = ParquetProperties.builder()
                .withDictionaryEncoding(false)
                .withSizeStatisticsEnabled(false)
                .build();
        this.file = new ParquetFileWriter(outputFile(conf, path), schema, ParquetFileWriter.Mode.OVERWRITE,
                rowGroupBytes, 0, null, props);
        this.file.start();
        this.codecs = new CodecFactory(conf, props.getPageSizeThreshold());
        this.compressor = codecs.getCompressor(codec);
        startRowGroup();
    }

    /**
     * A local file is written with java.nio, not through Hadoop's local file system: without Hadoop's native
     * library that sets the permissions of every new file (and of its {@code .crc} companion) by running
     * {@code chmod} in a child process, about 5 ms per part file. Parquet pages carry their own CRC.
     */
    static OutputFile outputFile(Configuration conf, Path path) throws IOException {
        FileSystem fs = path.getFileSystem(conf);
        if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
            // Not Paths.get(URI), which refuses non-ASCII characters in a path ("Bad escape").
            return new LocalOutputFile(java.nio.file.Path.of(fs.makeQualified(path).toUri().getPath()));
        }
        return HadoopOutputFile.fromPath(path, conf);
    }

    private void startRowGroup() {
        pages = new ColumnChunkPageWriteStore(compressor, schema, props.getAllocator(),
                props.getColumnIndexTruncateLength(), props.getPageWriteChecksumEnabled());
        columns = props.newColumnWriteStore(scalars, pages, pages);
        floatLists.clear();
        floatColumns.clear();
        id = columns.getColumnWriter(column("id"));
        label = columns.getColumnWriter(column("label"));
        if (topK > 0) {
            topIndex = columns.getColumnWriter(column("topk_index"));
            logits = floatList("topk_logit");
            logSumExp = columns.getColumnWriter(column("logsumexp"));
        } else {
            logits = floatList("teacher_logits");
        }
        if (views) {
            viewBoxes = columns.getColumnWriter(column("view_boxes"));
            if (topK > 0) {
                viewTopIndex = columns.getColumnWriter(column("view_topk_index"));
                viewLogits = floatList("view_topk_logit");
                viewLogSumExp = floatList("view_logsumexp");
            } else {
                viewLogits = floatList("view_logits");
            }
        }
        rowsInGroup = 0;
    }

    /** The leaf column of field {@code name} ({@code name.element} for a list in two-level form). */
    private ColumnDescriptor column(String name) {
        return schema.getColumns().stream().filter(d -> d.getPath()[0].equals(name)).findFirst().orElseThrow();
    }

    /** The writer of the float-list column {@code name}. */
    private FloatListPages floatList(String name) {
        ColumnDescriptor c = column(name);
        FloatListPages f = new FloatListPages(c, pages.getPageWriter(c), props.getPageSizeThreshold());
        floatLists.add(f);
        floatColumns.add(c);
        return f;
    }

    private static void writeInts(ColumnWriter w, int[] values, int from, int count) {
        for (int i = 0; i < count; i++) {
            w.write(values[from + i], i == 0 ? 0 : 1, 1);
        }
    }

    void write(SoftLabelRecord r) throws IOException {
        id.write(r.id(), 0, 0);
        if (r.label() == null) {
            label.writeNull(0, 0);
        } else {
            label.write(r.label(), 0, 1);
        }
        if (topK > 0) {
            TopK top = TopK.of(r.teacherLogits(), topK);
            writeInts(topIndex, top.index(), 0, top.index().length);
            logits.write(top.logit());
            logSumExp.write(top.logSumExp(), 0, 0);
        } else {
            logits.write(r.teacherLogits());
        }
        if (views) {
            if (r.viewBoxes() == null || r.viewBoxes().length == 0 || r.viewLogits() == null) {
                throw new IllegalArgumentException("row " + r.id() + " has no stored views");
            }
            writeInts(viewBoxes, r.viewBoxes(), 0, r.viewBoxes().length);
            if (topK > 0) {
                writeViewsTopK(r);
            } else {
                viewLogits.write(r.viewLogits());
            }
        }
        columns.endRecord();
        rowsInGroup++;
        if ((rowsInGroup & 127) == 0 && bufferedBytes() > rowGroupBytes) {
            flushRowGroup();
            startRowGroup();
        }
    }

    /** Each view's k largest logits, from the record's full view logits (V × C). */
    private void writeViewsTopK(SoftLabelRecord r) throws IOException {
        int v = r.viewBoxes().length / 5;
        int c = r.viewLogits().length / v;
        int k = Math.min(topK, c);
        int[] index = new int[v * k];
        float[] top = new float[v * k];
        float[] lse = new float[v];
        for (int i = 0; i < v; i++) {
            TopK t = TopK.of(java.util.Arrays.copyOfRange(r.viewLogits(), i * c, (i + 1) * c), k);
            System.arraycopy(t.index(), 0, index, i * k, k);
            System.arraycopy(t.logit(), 0, top, i * k, k);
            lse[i] = t.logSumExp();
        }
        writeInts(viewTopIndex, index, 0, index.length);
        viewLogits.write(top);
        viewLogSumExp.write(lse);
    }

    private long bufferedBytes() {
        long b = columns.getBufferedSize();
        for (int i = 0; i < floatLists.size(); i++) {
            b += floatLists.get(i).bufferedBytes() + pages.getPageWriter(floatColumns.get(i)).getMemSize();
        }
        return b;
    }

    private void flushRowGroup() throws IOException {
        if (rowsInGroup > 0) {
            file.startBlock(rowsInGroup);
            columns.flush();
            for (FloatListPages f : floatLists) {
                f.flush();
            }
            pages.flushToFileWriter(file);
            file.endBlock();
        }
        columns.close();
        pages.close();
    }

    @Override
    public void close() throws IOException {
        try {
            flushRowGroup();
            file.end(footer);
        } finally {
            codecs.release();
        }
    }
}
