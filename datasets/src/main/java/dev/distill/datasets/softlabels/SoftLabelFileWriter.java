package dev.distill.datasets.softlabels;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnWriteStore;
import org.apache.parquet.column.ColumnWriter;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.hadoop.CodecFactory;
import org.apache.parquet.hadoop.ColumnChunkPageWriteStore;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Writes one soft-label Parquet file through parquet-mr's column writers directly, with the
 * {@link SoftLabelMetadata} in the footer.
 *
 * <p>Why not {@code ParquetWriter} with a {@code WriteSupport}: its record consumer does bookkeeping for
 * every value, and a soft-label row holds hundreds of floats, so writing dominated labelling time. Here
 * each float costs one {@link ColumnWriter#write(float, int, int)} with its repetition and definition
 * levels, which this fixed schema knows in advance, and floats are encoded by {@link PlainFloatValuesWriter}.
 *
 * <p>The arrays use Parquet's two-level LIST form ({@code group (LIST) { repeated float element; }}), which
 * every reader accepts under the format's list compatibility rules (Spark, pyarrow/pandas and DuckDB read
 * it as {@code list<float>}). Dictionary encoding and statistics are off for the float arrays (they cost
 * more than they give on dense floats) and on for {@code id} and {@code label}.
 */
final class SoftLabelFileWriter implements Closeable {
    static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              required group features (LIST) { repeated float element; }
              optional int32 label;
              required group teacher_logits (LIST) { repeated float element; }
            }""");
    private static final long ROW_GROUP_BYTES = 128L << 20;

    private final ParquetProperties props;
    private final ParquetFileWriter file;
    private final CodecFactory codecs;
    private final CodecFactory.BytesCompressor compressor;
    private final Map<String, String> footer;
    private ColumnChunkPageWriteStore pages;
    private ColumnWriteStore columns;
    private ColumnWriter id;
    private ColumnWriter features;
    private ColumnWriter label;
    private ColumnWriter logits;
    private long rowsInGroup;

    SoftLabelFileWriter(Configuration conf, Path path, Map<String, String> footer, CompressionCodecName codec)
            throws IOException {
        this.footer = footer;
        this.props = ParquetProperties.builder()
                .withDictionaryEncoding(false)
                .withStatisticsEnabled(false)
                .withStatisticsEnabled("id", true)
                .withStatisticsEnabled("label", true)
                .withSizeStatisticsEnabled(false)
                .withValuesWriterFactory(new PlainFloatValuesWriter.Factory())
                .build();
        this.file = new ParquetFileWriter(HadoopOutputFile.fromPath(path, conf), SCHEMA, ParquetFileWriter.Mode.OVERWRITE,
                ROW_GROUP_BYTES, 0, null, props);
        this.file.start();
        this.codecs = new CodecFactory(conf, props.getPageSizeThreshold());
        this.compressor = codecs.getCompressor(codec);
        startRowGroup();
    }

    private void startRowGroup() {
        pages = new ColumnChunkPageWriteStore(compressor, SCHEMA, props.getAllocator(),
                props.getColumnIndexTruncateLength(), props.getPageWriteChecksumEnabled());
        columns = props.newColumnWriteStore(SCHEMA, pages, pages);
        List<ColumnDescriptor> cols = SCHEMA.getColumns();
        id = columns.getColumnWriter(cols.get(0));
        features = columns.getColumnWriter(cols.get(1));
        label = columns.getColumnWriter(cols.get(2));
        logits = columns.getColumnWriter(cols.get(3));
        rowsInGroup = 0;
    }

    void write(SoftLabelRecord r) throws IOException {
        id.write(r.id(), 0, 0);
        writeList(features, r.features());
        if (r.label() == null) {
            label.writeNull(0, 0);
        } else {
            label.write(r.label(), 0, 1);
        }
        writeList(logits, r.teacherLogits());
        columns.endRecord();
        rowsInGroup++;
        if ((rowsInGroup & 127) == 0 && columns.getBufferedSize() > ROW_GROUP_BYTES) {
            flushRowGroup();
            startRowGroup();
        }
    }

    /** Levels of a two-level list: the first element repeats at level 0 (a new row), the rest at 1. */
    private static void writeList(ColumnWriter w, float[] values) {
        if (values.length == 0) {
            w.writeNull(0, 0);
            return;
        }
        w.write(values[0], 0, 1);
        for (int i = 1; i < values.length; i++) {
            w.write(values[i], 1, 1);
        }
    }

    private void flushRowGroup() throws IOException {
        if (rowsInGroup > 0) {
            file.startBlock(rowsInGroup);
            columns.flush();
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
