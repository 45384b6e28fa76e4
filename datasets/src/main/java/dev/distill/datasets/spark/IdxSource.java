package dev.distill.datasets.spark;

import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.IdxFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an IDX images file and (optionally) its labels file into the example schema. The driver reads only
 * the headers; each partition opens the files itself (through Hadoop's file system, so any URI works) and
 * decodes its own range of records, so no data passes through the driver. Ids are record indices.
 */
public final class IdxSource {
    private IdxSource() {
    }

    /** What the headers say: record count and image shape. */
    public record Shape(int records, int[] recordDims) {
        public int recordLength() {
            int n = 1;
            for (int d : recordDims) {
                n *= d;
            }
            return n;
        }
    }

    public static Shape inspect(SparkSession spark, String images, String labels) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        IdxFile.Header img = header(conf, images);
        if (img.dims().length < 2) {
            String message = images + ": an images file needs >= 2 dimensions, found " + img;
            throw new UncheckedIOException(message, new IOException(message));
        }
        if (labels != null && !labels.isBlank()) {
            IdxFile.Header lab = header(conf, labels);
            if (lab.dims().length != 1 || lab.records() != img.records()) {
                String message = labels + ": labels file has shape " + lab + " but " + images + " holds "
                        + img.records() + " images; expected [" + img.records() + "]";
                throw new UncheckedIOException(message, new IOException(message));
            }
        }
        int[] rec = java.util.Arrays.copyOfRange(img.dims(), 1, img.dims().length);
        return new Shape(img.records(), rec);
    }

    private static IdxFile.Header header(Configuration conf, String file) {
        try (InputStream raw = open(conf, file);
             DataInputStream in = new DataInputStream(IdxFile.maybeGunzip(raw))) {
            return IdxFile.readHeader(in, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    static InputStream open(Configuration conf, String file) throws IOException {
        Path p = new Path(file);
        FileSystem fs = p.getFileSystem(conf);
        return fs.open(p);
    }

    /**
     * Reads records [0, limit) (all when limit is 0) into {@code partitions} partitions of near-equal size.
     * Pixel values stay raw (0..255); normalisation is applied afterwards.
     */
    public static Dataset<Row> read(SparkSession spark, String images, String labels, int limit, int partitions) {
        Shape shape = inspect(spark, images, labels);
        int n = limit > 0 ? Math.min(limit, shape.records()) : shape.records();
        int parts = Math.max(1, Math.min(partitions, n));
        List<long[]> ranges = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            ranges.add(new long[] {(long) n * p / parts, (long) n * (p + 1) / parts});
        }
        SerializableConfiguration conf = new SerializableConfiguration(spark.sparkContext().hadoopConfiguration());
        int length = shape.recordLength();
        boolean hasLabels = labels != null && !labels.isBlank();
        JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(ranges, parts)
                .mapPartitions(it -> {
                    List<Row> out = new ArrayList<>();
                    while (it.hasNext()) {
                        long[] range = it.next();
                        readRange(conf.value(), images, hasLabels ? labels : null, length, range[0], range[1], out);
                    }
                    return out.iterator();
                });
        return spark.createDataFrame(rows, ExampleSchema.SCHEMA);
    }

    private static void readRange(Configuration conf, String images, String labels, int length, long from, long to,
                                  List<Row> out) throws IOException {
        try (InputStream rawImg = open(conf, images);
             DataInputStream img = new DataInputStream(IdxFile.maybeGunzip(rawImg));
             InputStream rawLab = labels == null ? null : open(conf, labels);
             DataInputStream lab = labels == null ? null : new DataInputStream(IdxFile.maybeGunzip(rawLab))) {
            IdxFile.readHeader(img, images);
            IdxFile.skipFully(img, from * length, images);
            if (lab != null) {
                IdxFile.readHeader(lab, labels);
                IdxFile.skipFully(lab, from, labels);
            }
            byte[] buf = new byte[length];
            for (long id = from; id < to; id++) {
                IdxFile.readFully(img, buf, images);
                float[] f = new float[length];
                for (int j = 0; j < length; j++) {
                    f[j] = buf[j] & 0xff;
                }
                Integer label = null;
                if (lab != null) {
                    int b = lab.read();
                    if (b < 0) {
                        throw new IOException(labels + ": truncated IDX labels file at record " + id);
                    }
                    label = b;
                }
                out.add(RowFactory.create(id, f, label));
            }
        }
    }
}
