package dev.distill.datasets.spark;

import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.images.ImageDecoder;
import dev.distill.datasets.images.ImageFolder;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Image sources: a folder of image files ({@link ImageFolder}) read and decoded in the executors, each task
 * its own share of the listing; and the decoding of one encoded image for any source, with
 * {@code kd.dataset.image.on-bad-image} deciding whether an unreadable image stops the job (naming it) or is
 * skipped and counted in {@link Stats}.
 */
public final class ImageSource {
    private static final Logger LOG = LoggerFactory.getLogger(ImageSource.class);

    private ImageSource() {
    }

    /**
     * Images decoded and skipped and the task time spent reading and decoding them, summed over the executors
     * (Spark accumulators: exact once the splits are materialised, as the job's caching does).
     */
    public record Stats(LongAccumulator decoded, LongAccumulator skipped, LongAccumulator nanos)
            implements Serializable {
        static Stats register(SparkSession spark) {
            var sc = spark.sparkContext();
            return new Stats(sc.longAccumulator("images decoded"), sc.longAccumulator("images skipped"),
                    sc.longAccumulator("image decoding ns"));
        }

        /** "decoded 70,000 images (2,310 images/s per core), skipped 2 unreadable" for the log. */
        public String describe() {
            long n = decoded.value();
            double seconds = nanos.value() / 1e9;
            String rate = seconds > 0 ? String.format(java.util.Locale.ROOT, " (%,.0f images/s per core)", n / seconds)
                    : "";
            return String.format(java.util.Locale.ROOT, "decoded %,d images%s", n, rate)
                    + (skipped.value() > 0 ? String.format(java.util.Locale.ROOT,
                    ", skipped %,d unreadable (kd.dataset.image.on-bad-image = skip; each named in the executor log)",
                    skipped.value()) : "");
        }
    }

    /** The decoder of {@code s}: its input shape [C, H, W] and resize filter. */
    public static ImageDecoder decoder(DatasetSettings s) {
        List<Integer> shape = s.inputShape();
        return new ImageDecoder(shape.get(0), shape.get(1), shape.get(2), s.imageResize());
    }

    /**
     * The listings of a job's image folders, each made once: a run holds one, shared by loading the data and
     * computing its identity (listing a large folder on S3 takes minutes).
     */
    public static final class Listings {
        private final java.util.Map<String, ImageFolder> folders = new java.util.HashMap<>();

        /** The training folder: labelled by its class folders unless {@code image-folder.labels = none}. */
        public ImageFolder train(Configuration conf, DatasetSettings s) {
            return folders.computeIfAbsent("train", k -> checked(ImageFolder.list(conf, s.train(), s.folderLabels(),
                    null), s, s.train()));
        }

        /**
         * The test folder, always labelled by its class folders (evaluation needs labels): mapped by name to the
         * training folder's classes when that is labelled, else its own classes.
         */
        public ImageFolder test(Configuration conf, DatasetSettings s) {
            ImageFolder train = s.folderLabels() ? train(conf, s) : null;
            return folders.computeIfAbsent("test", k -> train != null ? ImageFolder.list(conf, s.test(), true,
                    train.classes()) : checked(ImageFolder.list(conf, s.test(), true, null), s, s.test()));
        }

        private static ImageFolder checked(ImageFolder folder, DatasetSettings s, String root) {
            int n = folder.classes().size();
            if (n > 0 && n != s.numClasses()) {
                throw new IllegalArgumentException(root + " has " + n + " class folders (" + String.join(", ",
                        folder.classes().subList(0, Math.min(8, n))) + (n > 8 ? ", ..." : "")
                        + ") but kd.dataset.num-classes = " + s.numClasses() + "; set num-classes = " + n);
            }
            return folder;
        }
    }

    /**
     * Rows of encoded images before decoding: {@code id}, {@code source} (the file, or a Parquet file and row,
     * for messages and for reading a file), {@code bytes} (null when the image is still in its file, or missing)
     * and {@code label}. Splits and label shares are chosen on these rows, so every image is decoded once.
     */
    public static final StructType ENCODED = new StructType(new StructField[] {
        DataTypes.createStructField(ExampleSchema.ID, DataTypes.LongType, false),
        DataTypes.createStructField("source", DataTypes.StringType, false),
        DataTypes.createStructField("bytes", DataTypes.BinaryType, true),
        DataTypes.createStructField(ExampleSchema.LABEL, DataTypes.IntegerType, true),
    });

    /**
     * The images of {@code folder} with id below {@code limit} (all when 0), as {@link #ENCODED} rows in
     * {@code partitions} partitions of near-equal count (each task reads its own files).
     */
    static Dataset<Row> readFolder(SparkSession spark, ImageFolder folder, int limit, int partitions) {
        List<ImageFolder.Entry> entries = folder.entries();
        if (limit > 0 && limit < entries.size()) {
            entries = entries.subList(0, limit);
        }
        if (!folder.ignored().isEmpty()) {
            LOG.warn("{}: {} files are not images (.png, .jpg, .jpeg, .bmp, .gif) and are not read, such as {}",
                    folder.root(), folder.ignored().size(), folder.ignored().get(0));
        }
        int parts = Math.max(1, Math.min(partitions, entries.size()));
        List<List<ImageFolder.Entry>> slices = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            slices.add(new ArrayList<>(entries.subList(entries.size() * p / parts, entries.size() * (p + 1) / parts)));
        }
        String root = folder.root().endsWith("/") ? folder.root() : folder.root() + "/";
        JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(slices, parts)
                .flatMap(slice -> {
                    List<Row> out = new ArrayList<>(slice.size());
                    for (ImageFolder.Entry e : slice) {
                        out.add(RowFactory.create(e.id(), root + e.path(), null, e.label() < 0 ? null : e.label()));
                    }
                    return out.iterator();
                });
        return spark.createDataFrame(rows, ENCODED);
    }

    /**
     * A Parquet table with an encoded-image column ({@code kd.dataset.parquet.image-column}) as {@link #ENCODED}
     * rows: the Hugging Face layout, a struct {@code {bytes: binary, path: string}}, or a plain binary column.
     * Ids are row positions, as for numeric Parquet tables (rows from {@code limit} on are dropped here, before
     * decoding); the label column is checked as there.
     */
    static Dataset<Row> readParquet(SparkSession spark, String path, DatasetSettings s, int limit) {
        Dataset<Row> raw = spark.read().parquet(path);
        StructType schema = raw.schema();
        List<String> names = java.util.Arrays.asList(schema.fieldNames());
        String column = s.imageColumn();
        int imageIndex = names.indexOf(column);
        if (imageIndex < 0) {
            throw new IllegalArgumentException(TableSource.missingColumn(path, column, names,
                    "kd.dataset.parquet.image-column"));
        }
        DataType type = schema.fields()[imageIndex].dataType();
        final int bytesField;
        final int pathField;
        if (type instanceof BinaryType) {
            bytesField = -1;
            pathField = -1;
        } else if (type instanceof StructType st && List.of(st.fieldNames()).contains("bytes")
                && st.apply("bytes").dataType() instanceof BinaryType) {
            bytesField = st.fieldIndex("bytes");
            pathField = List.of(st.fieldNames()).contains("path") ? st.fieldIndex("path") : -1;
        } else {
            throw new IllegalArgumentException(path + ": image column '" + column + "' has type " + type.simpleString()
                    + "; expected encoded images: binary, or a struct with a binary field 'bytes' (the Hugging Face"
                    + " layout, struct<bytes: binary, path: string>) (kd.dataset.parquet.image-column)");
        }
        int labelIndex = TableSource.labelIndex(path, schema, s.labelColumn());
        int numClasses = s.numClasses();
        String labelColumn = s.labelColumn();
        int fileIndex = names.size();
        JavaRDD<Row> rows = raw.withColumn(TableSource.FILE, functions.input_file_name()).javaRDD().zipWithIndex()
                .filter(t -> limit <= 0 || t._2() < limit)
                .map(t -> {
                    Row r = t._1();
                    long id = t._2();
                    String file = r.getString(fileIndex);
                    String what = file + ": row " + id;
                    byte[] encoded = null;   // a missing image is refused or skipped when decoded
                    if (bytesField < 0) {
                        encoded = r.isNullAt(imageIndex) ? null : (byte[]) r.get(imageIndex);
                    } else if (!r.isNullAt(imageIndex)) {
                        Row image = r.getStruct(imageIndex);
                        if (pathField >= 0 && !image.isNullAt(pathField)) {
                            what += " (image " + image.getString(pathField) + ")";
                        }
                        encoded = image.isNullAt(bytesField) ? null : (byte[]) image.get(bytesField);
                    }
                    Integer label = TableSource.label(r, labelIndex, numClasses, file, id, labelColumn);
                    return RowFactory.create(id, what, encoded, label);
                });
        return spark.createDataFrame(rows, ENCODED);
    }

    /**
     * Decodes {@link #ENCODED} rows into example rows of raw pixels in [0, 255]: the bytes a row holds, or its
     * file's. An image that cannot be read stops the job naming it, or with {@code on-bad-image = skip} is left
     * out and counted in {@code stats}.
     */
    static Dataset<Row> decode(Dataset<Row> encoded, DatasetSettings s, Stats stats) {
        SerializableConfiguration conf = new SerializableConfiguration(
                encoded.sparkSession().sparkContext().hadoopConfiguration());
        ImageDecoder decoder = decoder(s);
        boolean skip = s.skipBadImages();
        String column = "parquet".equals(s.format()) ? s.imageColumn() : "";
        JavaRDD<Row> rows = encoded.javaRDD().flatMap(r -> {
            String source = r.getString(1);
            byte[] held = r.isNullAt(2) ? null : (byte[]) r.get(2);
            long t0 = System.nanoTime();
            float[] pixels = decodeOrSkip(() -> {
                if (held != null) {
                    return held;
                }
                if (!column.isEmpty()) {
                    throw new IOException("no image bytes in column '" + column + "' (images the table names only by"
                            + " path are not read)");
                }
                return read(conf.value(), source);
            }, source, decoder, skip, stats);
            stats.nanos().add(System.nanoTime() - t0);
            return pixels == null ? java.util.Collections.emptyIterator()
                    : List.of(RowFactory.create(r.getLong(0), pixels, r.isNullAt(3) ? null : r.getInt(3))).iterator();
        });
        return encoded.sparkSession().createDataFrame(rows, ExampleSchema.SCHEMA);
    }

    /** The bytes of an encoded image. */
    interface Bytes {
        byte[] get() throws IOException;
    }

    /**
     * Decodes an image: its pixels, or null when it cannot be read and {@code skip} is set (counted and logged);
     * without {@code skip} an error naming {@code what} (the file, or the Parquet file and row).
     */
    static float[] decodeOrSkip(Bytes bytes, String what, ImageDecoder decoder, boolean skip, Stats stats) {
        try {
            float[] pixels = decoder.decode(bytes.get());
            stats.decoded().add(1);
            return pixels;
        } catch (IOException | RuntimeException e) {
            String message = what + ": " + e.getMessage();
            if (!skip) {
                // The reason is in the message; no cause, so the one line a failure prints is this one.
                throw new IllegalArgumentException(message + "; fix or remove it, or set kd.dataset.image.on-bad-image"
                        + " = skip to leave unreadable images out");
            }
            LOG.warn("skipping an unreadable image (kd.dataset.image.on-bad-image = skip): {}", message);
            stats.skipped().add(1);
            return null;
        }
    }

    private static byte[] read(Configuration conf, String file) throws IOException {
        Path p = new Path(file);
        var fs = p.getFileSystem(conf);
        if (fs instanceof org.apache.hadoop.fs.LocalFileSystem) {
            // Straight from the disk: Hadoop's local file system looks for a checksum file beside every file it
            // opens, which costs more than decoding a small image.
            return java.nio.file.Files.readAllBytes(java.nio.file.Path.of(fs.makeQualified(p).toUri()));
        }
        try (FSDataInputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }
}
