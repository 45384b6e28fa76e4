package dev.distill.datasets.softlabels;

import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

import java.util.Map;

/**
 * Writes {@link SoftLabelRecord}s with the standard three-level LIST encoding, so Spark, pyarrow, pandas and
 * DuckDB all read the arrays as lists, and puts the {@link SoftLabelMetadata} into the file footer.
 */
final class SoftLabelWriteSupport extends WriteSupport<SoftLabelRecord> {
    static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
            message soft_labels {
              required int64 id;
              required group features (LIST) { repeated group list { required float element; } }
              optional int32 label;
              required group teacher_logits (LIST) { repeated group list { required float element; } }
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
            out.startField("list", 0);
            for (float v : values) {
                out.startGroup();
                out.startField("element", 0);
                out.addFloat(v);
                out.endField("element", 0);
                out.endGroup();
            }
            out.endField("list", 0);
        }
        out.endGroup();
        out.endField(name, index);
    }
}
