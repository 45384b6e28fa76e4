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
        assertThatThrownBy(() -> DatasetLoader.load(spark, s).train().collectAsList())
                .rootCause().hasMessage(bad + ": row 1 has label 7.0 in column 'label'; labels must be integers in [0, 3)"
                        + " (kd.dataset.num-classes)");
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
