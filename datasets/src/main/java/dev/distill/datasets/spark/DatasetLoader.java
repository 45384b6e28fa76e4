package dev.distill.datasets.spark;

import dev.distill.datasets.Rows;
import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.Normalisation;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Loads the train and test splits a job's {@code kd.dataset} names, normalised with statistics fitted on the
 * training split. When no test source is given, a seeded hash of the id holds out {@code test-fraction} of
 * the training source, so the split is the same on every run and every cluster size.
 */
public final class DatasetLoader {
    private static final Logger LOG = LoggerFactory.getLogger(DatasetLoader.class);

    /**
     * Both splits, normalised, with the feature length, model input shape and the fitted normalisation; for
     * encoded images, the decoding counters ({@code images}, else null).
     */
    public record Splits(Dataset<Row> train, Dataset<Row> test, int featureLength, int[] inputShape,
                         Normalisation normalisation, ImageSource.Stats images, Dataset<Row> decodedTrain) {
        /**
         * These splits cached by Spark, so images are decoded once per run. When the normalisation was fitted on
         * decoded images ({@code decodedTrain}, cached for the fit), the normalised rows are made from that cache
         * now and it is released.
         */
        public Splits cache() {
            Splits cached = new Splits(train.cache(), test.cache(), featureLength, inputShape, normalisation, images,
                    null);
            if (decodedTrain != null) {
                cached.train().count();
                decodedTrain.unpersist();
            }
            return cached;
        }
    }

    private DatasetLoader() {
    }

    public static Splits load(SparkSession spark, DatasetSettings s) {
        return load(spark, s, new ImageSource.Listings());
    }

    /** {@link #load(SparkSession, DatasetSettings)} with the run's image-folder listings. */
    public static Splits load(SparkSession spark, DatasetSettings s, ImageSource.Listings listings) {
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        if ("csv".equals(s.format())) {
            CsvSource.checkSameColumns(conf, s);
        } else if ("parquet".equals(s.format()) && s.images()) {
            HuggingFaceMetadata.check(conf, s);   // class names that contradict num-classes or the test file's
        } else if ("parquet".equals(s.format())) {
            s = TableSource.withTrainColumns(conf, s);   // test columns picked by the training source's names
        }
        int partitions = s.partitions() > 0 ? s.partitions() : spark.sparkContext().defaultParallelism();
        ImageSource.Stats stats = s.images() ? ImageSource.Stats.register(spark) : null;
        Dataset<Row> train;
        Dataset<Row> test;
        if ("image-folder".equals(s.format())) {
            train = ImageSource.readFolder(spark, listings.train(conf, s), s.maxTrainRows(), partitions);
            test = !s.hasTestSource() ? null
                    : ImageSource.readFolder(spark, listings.test(conf, s), s.maxTestRows(), partitions);
        } else {
            train = readSource(spark, s, s.train(), s.trainLabels(), s.maxTrainRows(), partitions);
            test = !s.hasTestSource() ? null
                    : readSource(spark, s, s.test(), s.testLabels(), s.maxTestRows(), partitions);
        }
        if (!s.hasTestSource()) {
            long threshold = (long) (s.testFraction() * 1_000_000);
            long seed = s.splitSeed();
            Dataset<Row> all = train;
            org.apache.spark.sql.Column bucket = idBucket(seed);
            test = all.filter(bucket.lt(threshold));
            train = all.filter(bucket.geq(threshold));
        }
        if (s.labelledFraction() < 1) {
            train = keepLabels(train, s.labelledFraction(), s.splitSeed());
        }
        if (stats != null) {   // splits are chosen on the encoded rows: each image is decoded once
            train = ImageSource.decode(train, s, stats);
            test = ImageSource.decode(test, s, stats);
        }
        Dataset<Row> decodedTrain = null;
        if (stats != null && fitted(s)) {   // the fit reads the decoded images; keep them for the normalised rows
            decodedTrain = train.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
            train = decodedTrain;
        }
        int[] shape = inputShape(spark, s);
        if (shape.length == 1 && shape[0] == 0) {
            Row first = train.first();
            shape = new int[] {first.getList(1).size()};
        }
        int length = 1;
        for (int d : shape) {
            length *= d;
        }
        Normalisation norm = fit(train, s, shape, length);
        LOG.info("dataset: {} features per row, input shape {}, normalisation {}", length,
                java.util.Arrays.toString(shape), norm.describe());
        return new Splits(normalise(train, norm, length), normalise(test, norm, length), length, shape, norm, stats,
                decodedTrain);
    }

    /** True when the normalisation is fitted on the training split (a pass over its rows). */
    private static boolean fitted(DatasetSettings s) {
        return s.normalisation() == Normalisation.Method.STANDARDISE
                || s.normalisation() == Normalisation.Method.CHANNELS && s.channelMean().isEmpty();
    }

    /**
     * The names of the classes in label order: {@code kd.dataset.class-names} when set, else an image folder's
     * class folders, else the class names a Hugging Face Parquet file's metadata gives its label column; empty
     * when none are known (the report then shows label numbers).
     */
    public static List<String> classNames(SparkSession spark, DatasetSettings s) {
        if (!s.classNames().isEmpty()) {
            return s.classNames();
        }
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        if ("image-folder".equals(s.format())) {
            return s.folderLabels() ? dev.distill.datasets.images.ImageFolder.classFolders(conf, s.train())
                    : s.hasTestSource() ? dev.distill.datasets.images.ImageFolder.classFolders(conf, s.test()) : List.of();
        }
        if ("parquet".equals(s.format()) && !s.labelColumn().isBlank()) {
            return HuggingFaceMetadata.classNames(conf, s, s.train());
        }
        return List.of();
    }

    /**
     * A row's bucket in [0, 10⁶): a hash of its id and {@code salts}, the same on any cluster and partitioning.
     * A share f of the rows is those with a bucket below f·10⁶; different salts pick independent shares (the
     * test split, the labelled share, compare's validation rows).
     */
    public static org.apache.spark.sql.Column idBucket(Object... salts) {
        org.apache.spark.sql.Column[] parts = new org.apache.spark.sql.Column[salts.length + 1];
        parts[0] = functions.col(ExampleSchema.ID);
        for (int i = 0; i < salts.length; i++) {
            parts[i + 1] = functions.lit(salts[i]);
        }
        return functions.pmod(functions.xxhash64(parts), functions.lit(1_000_000L));
    }

    /**
     * The training rows with the labels of a share {@code fraction} of them kept (a seeded hash of the id, apart
     * from the test split's) and the others' removed, as if only that share had been labelled: the setting in
     * which a teacher's labels on unlabelled data pay most.
     */
    static Dataset<Row> keepLabels(Dataset<Row> train, double fraction, long seed) {
        org.apache.spark.sql.Column bucket = idBucket(seed * 17 + 0x1AB, "labelled");
        return train.withColumn(ExampleSchema.LABEL, functions.when(bucket.lt(Math.round(fraction * 1_000_000)),
                functions.col(ExampleSchema.LABEL)).otherwise(functions.lit(null).cast("int")));
    }

    /**
     * What identifies the rows of one split ({@code "train"} or {@code "test"}): SHA-256 (hex) of the settings
     * that decide its content (format, sources, label and feature columns, split, row limits, normalisation,
     * input shape; not the partition count) and the path and size of every source file. Soft labels record
     * it, since they hold no features and are joined by id with the split they were made from; moving or
     * rewriting the data set changes it (file contents are not read, so an edit that keeps every size is
     * not detected).
     */
    public static String dataKey(SparkSession spark, DatasetSettings s, String split) {
        return dataKey(spark, s, split, new ImageSource.Listings());
    }

    /** {@link #dataKey(SparkSession, DatasetSettings, String)} with the run's image-folder listings. */
    public static String dataKey(SparkSession spark, DatasetSettings s, String split, ImageSource.Listings listings) {
        StringBuilder b = new StringBuilder("split=").append(split)
                .append("\nformat=").append(s.format()).append("\nclasses=").append(s.numClasses())
                .append("\nlabel-column=").append(s.labelColumn())
                .append("\ncsv=").append(s.csvHeader()).append(s.csvDelimiter())
                .append("\nparquet=").append(s.featuresColumn()).append(s.featureColumns())
                .append("\nnormalisation=").append(s.normalisation()).append(' ').append(s.scaleMax())
                .append("\ninput-shape=").append(s.inputShape())
                .append("\nmax-rows=").append(s.maxTrainRows()).append(' ').append(s.maxTestRows());
        if (s.labelledFraction() < 1 && "train".equals(split)) {
            b.append("\nlabelled-fraction=").append(s.labelledFraction()).append(' ').append(s.splitSeed());
        }
        if (!s.hasTestSource()) {
            b.append("\nheld-out=").append(s.testFraction()).append(' ').append(s.splitSeed());
        }
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        if (s.images()) {
            b.append("\nimages=").append(s.imageColumn()).append(' ').append(s.imageResize()).append(' ')
                    .append(s.skipBadImages()).append(' ').append(s.folderLabels());
        }
        if (s.normalisation() == Normalisation.Method.CHANNELS) {
            b.append("\nchannels=").append(s.channelMean()).append(s.channelStd());
        }
        if ("image-folder".equals(s.format())) {
            // Ids are positions in the listing: any added, removed, renamed or resized image changes them.
            b.append("\nlisting=").append(listings.train(conf, s).root()).append(' ')
                    .append(listings.train(conf, s).fingerprint());
            if (s.hasTestSource()) {
                b.append(' ').append(listings.test(conf, s).root()).append(' ').append(listings.test(conf, s).fingerprint());
            }
        }
        for (String source : new String[] {s.train(), s.trainLabels(), s.test(), s.testLabels()}) {
            if (source == null || source.isEmpty() || "image-folder".equals(s.format())) {
                continue;   // an image folder's listing above has every file's path and size
            }
            try {
                org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(source);
                org.apache.hadoop.fs.FileSystem fs = path.getFileSystem(conf);
                b.append("\nsource=").append(fs.makeQualified(path)).append(' ')
                        .append(fs.getContentSummary(path).getLength());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read " + source + ": " + e.getMessage(), e);
            }
        }
        return dev.distill.datasets.Sha256.of(b.toString());
    }

    private static Dataset<Row> readSource(SparkSession spark, DatasetSettings s, String path, String labels,
                                           int limit, int partitions) {
        Dataset<Row> ds = switch (s.format()) {
            case "idx" -> IdxSource.read(spark, path, labels, limit, partitions);
            case "csv" -> TableSource.readCsv(spark, path, s);
            case "parquet" -> s.images() ? ImageSource.readParquet(spark, path, s, limit)
                    : TableSource.readParquet(spark, path, s);
            default -> throw new IllegalArgumentException("kd.dataset.format: unknown format " + s.format());
        };
        if (!"idx".equals(s.format())) {
            if (limit > 0 && !s.images()) {   // image rows past the limit were dropped before decoding
                ds = ds.filter(functions.col(ExampleSchema.ID).lt(limit));
            }
            ds = ds.repartition(partitions, functions.col(ExampleSchema.ID));
        }
        return ds;
    }

    /** The model input shape: kd.dataset.input-shape when set, else [1, rows, cols] for IDX, else [features]. */
    private static int[] inputShape(SparkSession spark, DatasetSettings s) {
        if (!s.inputShape().isEmpty()) {
            return s.inputShape().stream().mapToInt(Integer::intValue).toArray();
        }
        if ("idx".equals(s.format())) {
            IdxSource.Shape shape = IdxSource.inspect(spark, s.train(), s.trainLabels());
            int[] dims = shape.recordDims();
            if (dims.length == 2) {
                return new int[] {1, dims[0], dims[1]};
            }
            return dims;
        }
        return new int[] {0};
    }

    private static Normalisation fit(Dataset<Row> train, DatasetSettings s, int[] shape, int length) {
        return switch (s.normalisation()) {
            case NONE -> Normalisation.none();
            case SCALE -> Normalisation.scale(s.scaleMax());
            case CHANNELS -> fitChannels(train, s, shape);
            case STANDARDISE -> {
                double[] sums = groupSums(train, length, 1, 1);
                yield Normalisation.standardise(java.util.Arrays.copyOfRange(sums, 0, length),
                        java.util.Arrays.copyOfRange(sums, length, 2 * length), (long) sums[2 * length]);
            }
        };
    }

    /** Method channels: the given mean and std, or both fitted over every pixel of the training split. */
    private static Normalisation fitChannels(Dataset<Row> train, DatasetSettings s, int[] shape) {
        int channels = shape[0];
        int plane = shape[1] * shape[2];
        double divisor = s.scaleMax();
        if (!s.channelMean().isEmpty()) {
            return Normalisation.channels(divisor, s.channelMean().stream().mapToDouble(Double::doubleValue).toArray(),
                    s.channelStd().stream().mapToDouble(Double::doubleValue).toArray(), plane);
        }
        double[] sums = groupSums(train, channels, plane, divisor);
        return Normalisation.fitChannels(divisor, java.util.Arrays.copyOfRange(sums, 0, channels),
                java.util.Arrays.copyOfRange(sums, channels, 2 * channels), (long) sums[2 * channels], plane);
    }

    /**
     * Over the training rows, for each of {@code groups} consecutive runs of {@code size} features (a feature,
     * or a channel's pixels): Σ x/divisor, then Σ (x/divisor)², then the row count, in one array. A row of
     * another length is an error naming it.
     */
    private static double[] groupSums(Dataset<Row> train, int groups, int size, double divisor) {
        int length = groups * size;
        double[] zero = new double[2 * groups + 1];
        return train.javaRDD().treeAggregate(zero, (acc, row) -> {
            List<Float> xs = row.getList(1);
            if (xs.size() != length) {
                throw new IllegalArgumentException("row " + row.getLong(0) + " has " + xs.size()
                        + " features; the input shape (kd.dataset.input-shape) needs " + length);
            }
            for (int g = 0; g < groups; g++) {
                double sum = 0;
                double squares = 0;
                for (int j = g * size; j < (g + 1) * size; j++) {
                    double v = xs.get(j) / divisor;
                    sum += v;
                    squares += v * v;
                }
                acc[g] += sum;
                acc[groups + g] += squares;
            }
            acc[2 * groups] += 1;
            return acc;
        }, (x, y) -> {
            for (int j = 0; j < x.length; j++) {
                x[j] += y[j];
            }
            return x;
        }, 2);
    }

    /** Applies {@code norm} and checks that every row has the expected feature length. */
    private static Dataset<Row> normalise(Dataset<Row> ds, Normalisation norm, int expected) {
        JavaRDD<Row> rows = ds.javaRDD().map(r -> {
            float[] f = Rows.floats(r.getList(1));
            if (expected > 0 && f.length != expected) {
                throw new IllegalArgumentException("row " + r.getLong(0) + " has " + f.length
                        + " features; the input shape (kd.dataset.input-shape) needs " + expected);
            }
            return RowFactory.create(r.getLong(0), norm.apply(f), r.isNullAt(2) ? null : r.getInt(2));
        });
        return ds.sparkSession().createDataFrame(rows, ExampleSchema.SCHEMA);
    }
}
