package dev.distill.datasets.spark;

import com.typesafe.config.ConfigFactory;
import dev.distill.datasets.DatasetSettings;
import dev.distill.testing.LocalSpark;
import dev.distill.testing.Synthetic;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestDatasetLoader {
    static SparkSession spark;
    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    private static DatasetSettings settings(String hocon) {
        return DatasetSettings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference()).resolve());
    }

    private static float[] features(Row r) {
        List<Float> xs = r.getList(1);
        float[] f = new float[xs.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = xs.get(i);
        }
        return f;
    }

    @Test
    void readsIdxWithStableIdsAcrossPartitionsAndScales() throws Exception {
        Synthetic.writeIdxPair(dir.resolve("tr.gz"), dir.resolve("trl.gz"), 37, 2, 3, 4, true);
        Synthetic.writeIdxPair(dir.resolve("te"), dir.resolve("tel"), 11, 2, 3, 4, false);
        DatasetSettings s = settings("kd.dataset { train = \"" + dir.resolve("tr.gz") + "\", train-labels = \""
                + dir.resolve("trl.gz") + "\", test = \"" + dir.resolve("te") + "\", test-labels = \"" + dir.resolve("tel")
                + "\", num-classes = 4, partitions = 3 }");
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s);
        assertThat(splits.inputShape()).containsExactly(1, 2, 3);
        assertThat(splits.featureLength()).isEqualTo(6);
        List<Row> train = splits.train().orderBy("id").collectAsList();
        assertThat(train).hasSize(37);
        assertThat(splits.train().rdd().getNumPartitions()).isEqualTo(3);
        for (int i = 0; i < 37; i++) {
            Row r = train.get(i);
            assertThat(r.getLong(0)).isEqualTo(i);
            assertThat(r.getInt(2)).isEqualTo(i % 4);
            float[] f = features(r);
            for (int j = 0; j < 6; j++) {
                assertThat(f[j]).isEqualTo(((i * 7 + j) % 256) / 255f);
            }
        }
        assertThat(splits.test().count()).isEqualTo(11);
    }

    @Test
    void dataKeyNamesTheSplitsContentNotItsPartitioning() throws Exception {
        Synthetic.writeIdxPair(dir.resolve("a"), dir.resolve("b"), 20, 2, 2, 3, false);
        String base = "kd.dataset { train = \"" + dir.resolve("a") + "\", train-labels = \"" + dir.resolve("b")
                + "\", test = \"\", test-labels = \"\", num-classes = 3, test-fraction = 0.3";
        String key = DatasetLoader.dataKey(spark, settings(base + " }"), "train");
        assertThat(key).matches("[0-9a-f]{64}");
        assertThat(DatasetLoader.dataKey(spark, settings(base + ", partitions = 7 }"), "train")).isEqualTo(key);
        assertThat(DatasetLoader.dataKey(spark, settings(base + " }"), "test")).isNotEqualTo(key);
        assertThat(DatasetLoader.dataKey(spark, settings(base + ", split-seed = 2 }"), "train")).isNotEqualTo(key);
        assertThat(DatasetLoader.dataKey(spark, settings(base + ", normalisation.method = none }"), "train"))
                .isNotEqualTo(key);
        Synthetic.writeIdxPair(dir.resolve("a"), dir.resolve("b"), 21, 2, 2, 3, false);
        assertThat(DatasetLoader.dataKey(spark, settings(base + " }"), "train")).as("one more row").isNotEqualTo(key);
    }

    /** labelled-fraction keeps a seeded share of the training labels (the same ones every time), not the test's. */
    @Test
    void labelledFractionKeepsASeededShareOfTheTrainingLabels() throws Exception {
        Synthetic.writeIdxPair(dir.resolve("a"), dir.resolve("b"), 2000, 2, 2, 3, false);
        Synthetic.writeIdxPair(dir.resolve("c"), dir.resolve("d"), 50, 2, 2, 3, false);
        String base = "kd.dataset { train = \"" + dir.resolve("a") + "\", train-labels = \"" + dir.resolve("b")
                + "\", test = \"" + dir.resolve("c") + "\", test-labels = \"" + dir.resolve("d") + "\", num-classes = 3";
        DatasetSettings s = settings(base + ", labelled-fraction = 0.1 }");
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s);
        List<Row> train = splits.train().orderBy("id").collectAsList();
        assertThat(train).hasSize(2000);
        List<Long> kept = new java.util.ArrayList<>();
        for (Row r : train) {
            if (!r.isNullAt(2)) {
                assertThat(r.getInt(2)).isEqualTo((int) (r.getLong(0) % 3));
                kept.add(r.getLong(0));
            }
        }
        assertThat(kept.size()).isBetween(160, 240);
        assertThat(splits.test().filter("label is null").count()).isZero();
        List<Long> again = DatasetLoader.load(spark, s).train().filter("label is not null").orderBy("id")
                .select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
        assertThat(again).isEqualTo(kept);
        String all = DatasetLoader.dataKey(spark, settings(base + " }"), "train");
        assertThat(DatasetLoader.dataKey(spark, s, "train")).isNotEqualTo(all);
        assertThat(DatasetLoader.dataKey(spark, s, "test")).isEqualTo(DatasetLoader.dataKey(spark, settings(base + " }"), "test"));
    }

    @Test
    void maxRowsKeepsTheFirstIds() throws Exception {
        Synthetic.writeIdxPair(dir.resolve("a"), dir.resolve("b"), 20, 2, 2, 3, false);
        DatasetSettings s = settings("kd.dataset { train = \"" + dir.resolve("a") + "\", train-labels = \"" + dir.resolve("b")
                + "\", test = \"\", test-labels = \"\", num-classes = 3, max-train-rows = 10, test-fraction = 0.3 }");
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s);
        List<Long> trainIds = splits.train().select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
        List<Long> testIds = splits.test().select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
        assertThat(trainIds.size() + testIds.size()).isEqualTo(10);
        assertThat(trainIds).doesNotContainAnyElementsOf(testIds);
        assertThat(testIds).isNotEmpty();
        // The held-out split is a pure function of id and seed.
        DatasetLoader.Splits again = DatasetLoader.load(spark, s);
        assertThat(again.test().select("id").as(org.apache.spark.sql.Encoders.LONG()).collectAsList())
                .containsExactlyInAnyOrderElementsOf(testIds);
    }

    @Test
    void readsCsvWithAndWithoutHeaderAndStandardises() throws Exception {
        Path withHeader = Files.writeString(dir.resolve("h.csv"), "x1,label,x2\n1,0,10\n3,1,10\n5,1,10\n");
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + withHeader + "\", test = \"" + withHeader
                + "\", num-classes = 2, normalisation.method = standardise }");
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s);
        assertThat(splits.inputShape()).containsExactly(2);
        List<Row> rows = splits.train().orderBy("id").collectAsList();
        // x1: mean 3, std sqrt(8/3); x2 constant -> 0.
        double std = Math.sqrt(8.0 / 3);
        assertThat(features(rows.get(0))[0]).isCloseTo((float) (-2 / std), org.assertj.core.data.Offset.offset(1e-5f));
        assertThat(features(rows.get(2))[1]).isEqualTo(0f);
        assertThat(rows).extracting(r -> r.getInt(2)).containsExactly(0, 1, 1);

        Path noHeader = Files.writeString(dir.resolve("n.csv"), "0.5,2\n0.25,1\n");
        DatasetSettings s2 = settings("kd.dataset { format = csv, csv.header = false, label-column = \"1\", train = \""
                + noHeader + "\", test = \"" + noHeader + "\", num-classes = 3, normalisation.method = none }");
        List<Row> rows2 = DatasetLoader.load(spark, s2).train().orderBy("id").collectAsList();
        assertThat(features(rows2.get(1))).containsExactly(0.25f);
        assertThat(rows2.get(0).getInt(2)).isEqualTo(2);
    }

    @Test
    void csvLabelOutOfRangeNamesFileRowAndKey() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.csv"), "x,label\n1,0\n2,7\n");
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + bad + "\", test = \"" + bad
                + "\", num-classes = 3, normalisation.method = none }");
        assertThat(failure(() -> DatasetLoader.load(spark, s).train().collectAsList())).isEqualTo(bad + ":3: column 2"
                + " 'label' (the label): \"7\" is not a class index; labels must be whole numbers in [0, 3)"
                + " (kd.dataset.num-classes), or empty for a row without a label");
    }

    /** The message of our own exception in a failure's causes (Spark wraps a task's exception). */
    private static String failure(Runnable r) {
        try {
            r.run();
        } catch (Exception e) {   // Spark's SparkException is checked, and thrown undeclared
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof IllegalArgumentException && t.getMessage() != null && t.getMessage().startsWith("/")) {
                    return t.getMessage();
                }
                // A task's exception reaches the driver as text inside Spark's.
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("IllegalArgumentException: (/[^\\n]+)")
                        .matcher(String.valueOf(t.getMessage()));
                if (m.find()) {
                    return m.group(1);
                }
            }
            throw new AssertionError("no message naming a file in " + e, e);
        }
        throw new AssertionError("no failure");
    }

    private String csvFailure(String name, String content, String extra) throws Exception {
        Path f = Files.writeString(dir.resolve(name), content);
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + f + "\", test = \"" + f
                + "\", num-classes = 3" + extra + " }");
        return failure(() -> DatasetLoader.load(spark, s).train().collectAsList());
    }

    /** Every bad value in a CSV stops the job naming the file, line and column, and what is valid. */
    @Test
    void badCsvValuesNameFileLineAndColumn() throws Exception {
        String nan = csvFailure("nan.csv", "x1,x2,label\n1,2,0\n3,NaN,1\n", "");
        assertThat(nan).isEqualTo(dir.resolve("nan.csv") + ":3: column 2 'x2': \"NaN\" is not finite; features must be"
                + " finite numbers");
        assertThat(csvFailure("inf.csv", "x1,x2,label\n1,-Infinity,0\n", "")).isEqualTo(dir.resolve("inf.csv")
                + ":2: column 2 'x2': \"-Infinity\" is not finite; features must be finite numbers");
        assertThat(csvFailure("text.csv", "x1,x2,label\n1,2,0\n3,4,1\n5,abc,2\n", "")).isEqualTo(dir.resolve("text.csv")
                + ":4: column 2 'x2': \"abc\" is not a number; features must be finite numbers in plain decimal notation"
                + " (e.g. 0.25, -3, 1e-4)");
        assertThat(csvFailure("ragged.csv", "x1,x2,label\n1,2,0\n3,1\n", "")).isEqualTo(dir.resolve("ragged.csv")
                + ":3: 2 fields, but the header names 3 (kd.dataset.csv.delimiter = \",\")");
        assertThat(csvFailure("extra.csv", "x1,x2,label\n1,2,0,9\n", "")).isEqualTo(dir.resolve("extra.csv")
                + ":2: 4 fields, but the header names 3 (kd.dataset.csv.delimiter = \",\")");
        assertThat(csvFailure("empty.csv", "x1,x2,label\n1,,0\n", "")).isEqualTo(dir.resolve("empty.csv")
                + ":2: column 2 'x2': empty; features must be finite numbers");
        assertThat(csvFailure("headeronly.csv", "x1,x2,label\n", "")).isEqualTo(dir.resolve("headeronly.csv")
                + ": no data rows (only the header) in [" + dir.resolve("headeronly.csv") + "]");
        assertThat(csvFailure("quote.csv", "x1,x2,label\n1,\"2,0\n", "")).isEqualTo(dir.resolve("quote.csv")
                + ":2: a quoted field is not closed before the end of the line (fields spanning lines are not supported)");
    }

    /** A truncated .csv.gz names the file and how far it could be read. */
    @Test
    void aTruncatedGzipNamesTheFile() throws Exception {
        StringBuilder b = new StringBuilder("x1,x2,label\n");
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < 20_000; i++) {
            b.append(r.nextFloat()).append(',').append(r.nextFloat()).append(',').append(i % 3).append('\n');
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(bytes)) {
            gz.write(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Path f = dir.resolve("cut.csv.gz");
        Files.write(f, java.util.Arrays.copyOf(bytes.toByteArray(), bytes.size() / 2));
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + f + "\", test = \"" + f
                + "\", num-classes = 3 }");
        assertThat(failure(() -> DatasetLoader.load(spark, s).train().collectAsList()))
                .matches(java.util.regex.Pattern.quote(f.toString()) + ": cannot read past line \\d+ \\(.+\\); is the"
                        + " file truncated or damaged\\?");
    }

    /** A folder is read file by file in name order; a file that is not like the first (a README) is named. */
    @Test
    void aFolderOfFilesHasStableIdsAndNamesAStrayFile() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("parts"));
        Files.writeString(folder.resolve("b.csv"), "x,label\n3,1\n4,0\n");
        Files.writeString(folder.resolve("a.csv"), "x,label\n1,0\n2,1\n");
        Files.writeString(folder.resolve("_SUCCESS"), "");
        Files.writeString(folder.resolve(".a.csv.crc"), "junk");
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + folder + "\", test = \"" + folder
                + "\", num-classes = 2, normalisation.method = none }");
        List<Row> rows = DatasetLoader.load(spark, s).train().orderBy("id").collectAsList();
        assertThat(rows).extracting(r -> features(r)[0]).containsExactly(1f, 2f, 3f, 4f);
        assertThat(rows).extracting(r -> r.getLong(0)).containsExactly(0L, 1L, 2L, 3L);
        Files.writeString(folder.resolve("notes.txt"), "# The data\nTwo files of x and label.\n");
        assertThat(failure(() -> DatasetLoader.load(spark, s).train().collectAsList())).isEqualTo(folder.resolve("notes.txt")
                + ":1: the header names 1 column (# The data) but " + folder.resolve("a.csv") + " names 2 (x, label);"
                + " every file of a CSV source needs the same header");
        Files.move(folder.resolve("notes.txt"), folder.resolve("README.md"));   // sorts first: its "header" is read
        assertThat(failure(() -> DatasetLoader.load(spark, s).train().collectAsList())).isEqualTo(folder.resolve("README.md")
                + ": no column 'label' (kd.dataset.label-column); the data has 1 column: # The data; the first line holds"
                + " no ',' (kd.dataset.csv.delimiter): is " + folder.resolve("README.md") + " a CSV file of that delimiter?");
    }

    /** A binary file read as CSV: its "header" is shown as one readable line, not as raw bytes. */
    @Test
    void aBinaryFileIsNamedWithoutPrintingItsBytes() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("binary"));
        byte[] bytes = new byte[200];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 37 + 128);   // no '\n' or ',' among the first bytes
        }
        bytes[3] = 0;
        Files.write(folder.resolve("images.bin"), bytes);
        Path f = folder.resolve("images.bin");
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + f + "\", test = \"" + f
                + "\", num-classes = 2 }");
        String message = failure(() -> DatasetLoader.load(spark, s).train().count());
        assertThat(message).startsWith(folder.resolve("images.bin") + ": no column 'label' (kd.dataset.label-column);"
                + " the data has ");
        assertThat(message).contains("...,");   // a long name is cut at 40 characters
        assertThat(message.chars().allMatch(c -> c >= 32 && c != 0xFFFD)).isTrue();
    }

    /** A large file split across tasks: the line of a bad value in a later split is still exact. */
    @Test
    void lineNumbersAreExactInSplitsThatStartInsideAFile() throws Exception {
        StringBuilder b = new StringBuilder("x,label\n");
        for (int i = 0; i < 5000; i++) {
            b.append(i == 4321 ? "oops" : Integer.toString(i)).append(',').append(i % 2).append('\n');
        }
        Path f = Files.writeString(dir.resolve("big.csv"), b.toString());
        String before = spark.sparkContext().hadoopConfiguration().get("mapreduce.input.fileinputformat.split.maxsize");
        spark.sparkContext().hadoopConfiguration().set("mapreduce.input.fileinputformat.split.maxsize", "4096");
        try {
            DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + f + "\", test = \"" + f
                    + "\", num-classes = 2 }");
            assertThat(failure(() -> DatasetLoader.load(spark, s).train().collectAsList())).isEqualTo(f + ":4323:"
                    + " column 1 'x': \"oops\" is not a number; features must be finite numbers in plain decimal notation"
                    + " (e.g. 0.25, -3, 1e-4)");
        } finally {
            if (before == null) {
                spark.sparkContext().hadoopConfiguration().unset("mapreduce.input.fileinputformat.split.maxsize");
            } else {
                spark.sparkContext().hadoopConfiguration().set("mapreduce.input.fileinputformat.split.maxsize", before);
            }
        }
    }

    /** A wrong label column is named with the nearest column, not all 785 of them. */
    @Test
    void aMissingLabelColumnSuggestsTheNearest() throws Exception {
        StringBuilder header = new StringBuilder();
        for (int i = 1; i <= 784; i++) {
            header.append("pixel").append(i).append(',');
        }
        Path f = Files.writeString(dir.resolve("wide.csv"), header + "label\n");
        DatasetSettings s = settings("kd.dataset { format = csv, label-column = lable, train = \"" + f + "\", test = \""
                + f + "\" }");
        assertThatThrownBy(() -> CsvSource.inspect(new org.apache.hadoop.conf.Configuration(), f.toString(), s))
                .hasMessage(f + ": no column 'lable' (kd.dataset.label-column); did you mean 'label'? the data has 785"
                        + " columns: pixel1, pixel2, pixel3, pixel4, pixel5, ..., pixel784, label; set label-column = \"\""
                        + " for unlabeled data");
    }

    /** A test file whose columns differ from the training file's (order or count) is refused, naming both. */
    @Test
    void testColumnsMustMatchTheTrainingColumns() throws Exception {
        Path train = Files.writeString(dir.resolve("tr.csv"), "a,b,label\n1,2,0\n3,4,1\n");
        Path swapped = Files.writeString(dir.resolve("sw.csv"), "b,a,label\n2,1,0\n");
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + train + "\", test = \"" + swapped
                + "\", num-classes = 2 }");
        assertThatThrownBy(() -> DatasetLoader.load(spark, s)).hasMessage(swapped + ": 3 columns (b, a, label), but the"
                + " training data " + train + " has 3 (a, b, label); train and test need the same columns in the same"
                + " order (kd.dataset.train, kd.dataset.test)");
        Path pq = dir.resolve("pq-train");
        Path pqTest = dir.resolve("pq-test");
        spark.sql("SELECT id, cast(id AS float) AS a, cast(id * 10 AS float) AS b, cast(id % 2 AS int) AS label"
                + " FROM range(4)").write().parquet(pq.toString());
        spark.sql("SELECT id, cast(id * 10 AS float) AS b, cast(id AS float) AS a, cast(id % 2 AS int) AS label"
                + " FROM range(4)").write().parquet(pqTest.toString());
        DatasetSettings p = settings("kd.dataset { format = parquet, parquet.features-column = \"\", train = \"" + pq
                + "\", test = \"" + pqTest + "\", num-classes = 2, normalisation.method = none }");
        List<Row> test = DatasetLoader.load(spark, p).test().collectAsList();
        assertThat(test).hasSize(4).allSatisfy(r -> assertThat(features(r)[1]).as("columns picked by the training"
                + " source's names: [a, b] with b = 10a").isEqualTo(10 * features(r)[0]));
    }

    /** A glob names the files of a source. */
    @Test
    void aGlobNamesTheFiles() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("globbed"));
        Files.writeString(folder.resolve("part-1.csv"), "x,label\n1,0\n");
        Files.writeString(folder.resolve("part-2.csv"), "x,label\n2,1\n");
        Files.writeString(folder.resolve("other.csv"), "x,label\n9,1\n");
        DatasetSettings s = settings("kd.dataset { format = csv, train = \"" + folder + "/part-*.csv\", test = \""
                + folder + "/part-?.csv\", num-classes = 2, normalisation.method = none }");
        assertThat(DatasetLoader.load(spark, s).train().orderBy("id").collectAsList()).extracting(r -> features(r)[0])
                .containsExactly(1f, 2f);
        assertThatThrownBy(() -> settings("kd.dataset { format = csv, train = \"" + folder + "/nope-*.csv\", test = \""
                + folder + "/part-1.csv\", num-classes = 2 }")).hasMessageContaining("no file matches " + folder
                + "/nope-*.csv; set kd.dataset.train to an existing csv file, folder or glob");
    }

    /** Keys of another format are reported rather than ignored; auto normalisation fits the format. */
    @Test
    void keysOfAnotherFormatAreReportedAndNormalisationFitsTheFormat() throws Exception {
        Path f = Files.writeString(dir.resolve("k.csv"), "x,label\n1,0\n");
        assertThatThrownBy(() -> settings("kd.dataset { format = csv, train = \"" + f + "\", test = \"" + f
                + "\", train-labels = \"/x\", parquet.feature-columns = [a], normalisation.scale-max = 10 }"))
                .hasMessageContaining("kd.dataset.train-labels = \"/x\": applies to format = idx only (this job's format"
                        + " is csv); remove it")
                .hasMessageContaining("kd.dataset.parquet.feature-columns = [\"a\"]: applies to format = parquet only"
                        + " (this job's format is csv); remove it")
                .hasMessageContaining("kd.dataset.normalisation.scale-max = 10: applies to normalisation.method = scale"
                        + " and channels only (the method here is standardise); remove it");
        assertThat(settings("kd.dataset { format = csv, train = \"" + f + "\", test = \"" + f + "\" }").normalisation())
                .isEqualTo(dev.distill.datasets.Normalisation.Method.STANDARDISE);
        assertThat(settings("kd.dataset { }").normalisation()).isEqualTo(dev.distill.datasets.Normalisation.Method.SCALE);
    }

    @Test
    void readsParquetFromAnArrayColumnOrNumericColumns() {
        Path p = dir.resolve("pq");
        spark.sql("SELECT id AS id, array(cast(id AS double), 1.0D) AS features, cast(id % 2 AS int) AS label,"
                + " cast(id * 2 AS float) AS a FROM range(6)").write().parquet(p.toString());
        DatasetSettings arr = settings("kd.dataset { format = parquet, train = \"" + p + "\", test = \"" + p
                + "\", num-classes = 2, normalisation.method = none }");
        List<Row> rows = DatasetLoader.load(spark, arr).train().orderBy("id").collectAsList();
        assertThat(rows).hasSize(6);
        assertThat(features(rows.get(0))).hasSize(2);
        DatasetSettings cols = settings("kd.dataset { format = parquet, parquet.features-column = \"\","
                + " parquet.feature-columns = [a], train = \"" + p + "\", test = \"" + p + "\", num-classes = 2,"
                + " normalisation.method = none }");
        DatasetLoader.Splits s = DatasetLoader.load(spark, cols);
        assertThat(s.inputShape()).containsExactly(1);
        assertThat(s.train().collectAsList()).extracting(r -> features(r)[0])
                .containsExactlyInAnyOrder(0f, 2f, 4f, 6f, 8f, 10f);
    }

    @Test
    void missingFashionMnistSaysHowToInstallIt() {
        assertThatThrownBy(() -> settings("kd.dataset.train = \"" + DatasetSettings.DEFAULT_FASHION_MNIST + "/nope.gz\""))
                .hasMessageContaining("kd.dataset.train = \"/usr/share/datasets/fashion-mnist/nope.gz\": no such file or"
                        + " folder: /usr/share/datasets/fashion-mnist/nope.gz; Fashion-MNIST is installed there by"
                        + " `apt-get install dataset-fashion-mnist`, or set kd.dataset.train to where your copy is");
    }
}
