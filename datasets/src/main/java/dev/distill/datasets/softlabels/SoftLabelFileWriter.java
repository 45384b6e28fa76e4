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
    /** The columns written through parquet-mr's column writers; the same descriptors as in {@link #SCHEMA}. */
    private static final MessageType SCALARS = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              optional int32 label;
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
    private static final MessageType SCALARS_TOPK = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              optional int32 label;
              required group topk_index (LIST) { repeated int32 element; }
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
    private static final MessageType SCALARS_VIEWS = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              optional int32 label;
              required group view_boxes (LIST) { repeated int32 element; }
            }""");
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
    private ColumnWriter viewBoxes;
    private FloatListPages viewLogits;
    private ColumnWriter topIndex;
    private ColumnWriter logSumExp;
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

    /** With {@code views}, each row also holds its stored views (see {@link #SCHEMA_VIEWS}); not with top-k. */
    SoftLabelFileWriter(Configuration conf, Path path, Map<String, String> footer, CompressionCodecName codec,
                        long rowGroupBytes, int topK, boolean views) throws IOException {
        if (views && topK > 0) {
            throw new IllegalArgumentException("stored views keep full logits; they cannot be written as top-k");
        }
        this.footer = footer;
        this.rowGroupBytes = rowGroupBytes;
        this.topK = topK;
        this.views = views;
        this.schema = topK > 0 ? SCHEMA_TOPK : views ? SCHEMA_VIEWS : SCHEMA;
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
        columns = props.newColumnWriteStore(topK > 0 ? SCALARS_TOPK : views ? SCALARS_VIEWS : SCALARS, pages, pages);
        List<ColumnDescriptor> cols = schema.getColumns();
        id = columns.getColumnWriter(cols.get(0));
        label = columns.getColumnWriter(cols.get(1));
        if (topK > 0) {
            topIndex = columns.getColumnWriter(cols.get(2));
            logits = new FloatListPages(cols.get(3), pages.getPageWriter(cols.get(3)), props.getPageSizeThreshold());
            logSumExp = columns.getColumnWriter(cols.get(4));
        } else {
            logits = new FloatListPages(cols.get(2), pages.getPageWriter(cols.get(2)), props.getPageSizeThreshold());
        }
        if (views) {
            viewBoxes = columns.getColumnWriter(cols.get(3));
            viewLogits = new FloatListPages(cols.get(4), pages.getPageWriter(cols.get(4)), props.getPageSizeThreshold());
        }
        rowsInGroup = 0;
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
            for (int i = 0; i < top.index().length; i++) {
                topIndex.write(top.index()[i], i == 0 ? 0 : 1, 1);
            }
            logits.write(top.logit());
            logSumExp.write(top.logSumExp(), 0, 0);
        } else {
            logits.write(r.teacherLogits());
        }
        if (views) {
            if (r.viewBoxes() == null || r.viewBoxes().length == 0 || r.viewLogits() == null) {
                throw new IllegalArgumentException("row " + r.id() + " has no stored views");
            }
            int[] boxes = r.viewBoxes();
            for (int i = 0; i < boxes.length; i++) {
                viewBoxes.write(boxes[i], i == 0 ? 0 : 1, 1);
            }
            viewLogits.write(r.viewLogits());
        }
        columns.endRecord();
        rowsInGroup++;
        if ((rowsInGroup & 127) == 0 && bufferedBytes() > rowGroupBytes) {
            flushRowGroup();
            startRowGroup();
        }
    }

    private long bufferedBytes() {
        List<ColumnDescriptor> cols = schema.getColumns();
        return columns.getBufferedSize() + logits.bufferedBytes()
                + pages.getPageWriter(cols.get(topK > 0 ? 3 : 2)).getMemSize()
                + (views ? viewLogits.bufferedBytes() + pages.getPageWriter(cols.get(4)).getMemSize() : 0);
    }

    private void flushRowGroup() throws IOException {
        if (rowsInGroup > 0) {
            file.startBlock(rowsInGroup);
            columns.flush();
            logits.flush();
            if (views) {
                viewLogits.flush();
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
