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

    /** Both splits, normalised, with the feature length, model input shape and the fitted normalisation. */
    public record Splits(Dataset<Row> train, Dataset<Row> test, int featureLength, int[] inputShape,
                         Normalisation normalisation) {
    }

    private DatasetLoader() {
    }

    public static Splits load(SparkSession spark, DatasetSettings s) {
        org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
        if ("csv".equals(s.format())) {
            CsvSource.checkSameColumns(conf, s);
        } else if ("parquet".equals(s.format())) {
            s = TableSource.withTrainColumns(conf, s);   // test columns picked by the training source's names
        }
        int partitions = s.partitions() > 0 ? s.partitions() : spark.sparkContext().defaultParallelism();
        Dataset<Row> train = readSource(spark, s, s.train(), s.trainLabels(), s.maxTrainRows(), partitions);
        Dataset<Row> test;
        if (s.hasTestSource()) {
            test = readSource(spark, s, s.test(), s.testLabels(), s.maxTestRows(), partitions);
        } else {
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
        int[] shape = inputShape(spark, s);
        if (shape.length == 1 && shape[0] == 0) {
            Row first = train.first();
            shape = new int[] {first.getList(1).size()};
        }
        int length = 1;
        for (int d : shape) {
            length *= d;
        }
        Normalisation norm = fit(train, s, length);
        LOG.info("dataset: {} features per row, input shape {}, normalisation {}", length,
                java.util.Arrays.toString(shape), norm.describe());
        return new Splits(normalise(train, norm, length), normalise(test, norm, length), length, shape, norm);
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
        for (String source : new String[] {s.train(), s.trainLabels(), s.test(), s.testLabels()}) {
            if (source == null || source.isEmpty()) {
                continue;
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
            case "parquet" -> TableSource.readParquet(spark, path, s);
            default -> throw new IllegalArgumentException("kd.dataset.format: unknown format " + s.format());
        };
        if (!"idx".equals(s.format())) {
            if (limit > 0) {
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

    private static Normalisation fit(Dataset<Row> train, DatasetSettings s, int length) {
        return switch (s.normalisation()) {
            case NONE -> Normalisation.none();
            case SCALE -> Normalisation.scale(s.scaleMax());
            case STANDARDISE -> {
                int n = length;
                double[] zero = new double[2 * n + 1];
                double[] sums = train.javaRDD().treeAggregate(zero, (acc, row) -> {
                    List<Float> xs = row.getList(1);
                    for (int j = 0; j < n; j++) {
                        double v = xs.get(j);
                        acc[j] += v;
                        acc[n + j] += v * v;
                    }
                    acc[2 * n] += 1;
                    return acc;
                }, (a, b) -> {
                    for (int j = 0; j < a.length; j++) {
                        a[j] += b[j];
                    }
                    return a;
                }, 2);
                yield Normalisation.standardise(java.util.Arrays.copyOfRange(sums, 0, n),
                        java.util.Arrays.copyOfRange(sums, n, 2 * n), (long) sums[2 * n]);
            }
        };
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
