package dev.distill.datasets.softlabels;

import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

import java.util.Map;

/**
 * Writes {@link SoftLabelRecord}s and puts the {@link SoftLabelMetadata} into the file footer. The arrays use
 * Parquet's two-level LIST form ({@code group (LIST) { repeated float element; }}), which every reader
 * accepts under the format's list compatibility rules (Spark, pyarrow/pandas, DuckDB read it as
 * {@code list<float>}); it costs one record-consumer call per value instead of the three-level form's five,
 * which matters when a row carries hundreds of features.
 */
final class SoftLabelWriteSupport extends WriteSupport<SoftLabelRecord> {
    static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              required group features (LIST) { repeated float element; }
              optional int32 label;
              required group teacher_logits (LIST) { repeated float element; }
            }""");

    private final Map<String, String> footer;
    private RecordConsumer out;

    SoftLabelWriteSupport(Map<String, String> footer) {
        this.footer = footer;
    }

    @Override
    public WriteContext init(Configuration configuration) {
        return new WriteContext(SCHEMA, footer);
    }

    @Override
    public void prepareForWrite(RecordConsumer recordConsumer) {
        this.out = recordConsumer;
    }

    @Override
    public void write(SoftLabelRecord r) {
        out.startMessage();
        out.startField("id", 0);
        out.addLong(r.id());
        out.endField("id", 0);
        writeList("features", 1, r.features());
        if (r.label() != null) {
            out.startField("label", 2);
            out.addInteger(r.label());
            out.endField("label", 2);
        }
        writeList("teacher_logits", 3, r.teacherLogits());
        out.endMessage();
    }

    private void writeList(String name, int index, float[] values) {
        out.startField(name, index);
        out.startGroup();
        if (values.length > 0) {
            out.startField("element", 0);
            for (float v : values) {
                out.addFloat(v);
            }
            out.endField("element", 0);
        }
        out.endGroup();
        out.endField(name, index);
    }
}
