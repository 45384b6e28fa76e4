package dev.distill.datasets.softlabels;

import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.ParquetProperties;
import org.apache.parquet.column.values.ValuesWriter;
import org.apache.parquet.column.values.factory.DefaultValuesWriterFactory;
import org.apache.parquet.column.values.factory.ValuesWriterFactory;
import org.apache.parquet.schema.PrimitiveType;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Parquet's PLAIN encoding of FLOAT values (4-byte little-endian IEEE 754, one after another) written
 * with one array store per value. parquet-mr's own plain writer pushes every float through four
 * single-byte virtual calls, which made it the largest cost of writing soft labels. The bytes are
 * identical to parquet-mr's, so any reader decodes them.
 */
final class PlainFloatValuesWriter extends ValuesWriter {
    private static final VarHandle FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

    private byte[] buf;
    private int size;

    PlainFloatValuesWriter(int initialBytes) {
        this.buf = new byte[Math.max(64, initialBytes)];
    }

    @Override
    public void writeFloat(float v) {
        if (size + 4 > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + 4));
        }
        FLOATS.set(buf, size, v);
        size += 4;
    }

    @Override
    public long getBufferedSize() {
        return size;
    }

    @Override
    public BytesInput getBytes() {
        return BytesInput.from(buf, 0, size);
    }

    @Override
    public Encoding getEncoding() {
        return Encoding.PLAIN;
    }

    @Override
    public void reset() {
        size = 0;
    }

    @Override
    public long getAllocatedSize() {
        return buf.length;
    }

    @Override
    public String memUsageString(String prefix) {
        return prefix + " PlainFloatValuesWriter " + size + " of " + buf.length + " bytes";
    }

    /** Our writer for FLOAT columns without dictionary encoding; parquet-mr's default for everything else. */
    static final class Factory implements ValuesWriterFactory {
        private final DefaultValuesWriterFactory fallback = new DefaultValuesWriterFactory();
        private ParquetProperties props;

        @Override
        public void initialize(ParquetProperties properties) {
            this.props = properties;
            fallback.initialize(properties);
        }

        @Override
        public ValuesWriter newValuesWriter(ColumnDescriptor descriptor) {
            if (descriptor.getPrimitiveType().getPrimitiveTypeName() == PrimitiveType.PrimitiveTypeName.FLOAT
                    && !props.isDictionaryEnabled(descriptor) && !props.isByteStreamSplitEnabled(descriptor)) {
                return new PlainFloatValuesWriter(props.getInitialSlabSize());
            }
            return fallback.newValuesWriter(descriptor);
        }
    }
}
