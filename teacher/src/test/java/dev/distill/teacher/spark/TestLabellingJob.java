package dev.distill.teacher.spark;

import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.teacher.OnnxTeacher;
import dev.distill.teacher.TeacherSource;
import dev.distill.testing.LocalSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The labelling job on local[2] with the committed ONNX teacher. */
class TestLabellingJob {
    static final Path MODEL = Path.of("src/test/resources/onnx/fashion-cnn.onnx").toAbsolutePath();
    static final OnnxTeacher.Options IMAGE = new OnnxTeacher.Options("", "", new int[] {1, 28, 28}, false);
    static final TeacherSource SOURCE = new TeacherSource("onnx", MODEL.toString(), 784, 10, IMAGE);
    static final SoftLabelMetadata MD = new SoftLabelMetadata(SoftLabelMetadata.SCHEMA_VERSION, "fashion-cnn.onnx",
            "sha", 10, new int[] {1, 28, 28}, "scale(x/255.0)", "test-data", "now");
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

    /** 300 rows in 3 partitions (100 rows each: one partial batch of 36 after one of 64) with ids 1000 + i. */
    private static Dataset<Row> examples(float[] x, int features) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            rows.add(RowFactory.create(1000L + i, Arrays.copyOfRange(x, i * 784, i * 784 + features),
                    i % 4 == 0 ? null : i % 10));
        }
        return spark.createDataFrame(rows, ExampleSchema.SCHEMA).repartition(3);
    }

    @Test
    void everyRowOnceWithItsLabelAndTheTeachersLogits() throws Exception {
        float[] x = dev.distill.teacher.TestOnnxTeacher.images(300);
        String target = dir.resolve("soft").toString();
        LabellingJob.Result r = LabellingJob.label(examples(x, 784), SOURCE, "sha", MD, 64, "snappy", target);
        assertThat(r.rows()).isEqualTo(300);
        assertThat(SoftLabelStore.inspect(spark.sparkContext().hadoopConfiguration(), target).rows()).isEqualTo(300);
        List<Row> back = spark.read().parquet(target).orderBy("id").collectAsList();
        assertThat(back).hasSize(300);
        float[] want;
        try (OnnxTeacher t = new OnnxTeacher(Files.readAllBytes(MODEL), "m", IMAGE, 784, 10, 1)) {
            want = t.logits(x, 300);
        }
        for (int i = 0; i < 300; i++) {
            Row row = back.get(i);
            assertThat(row.getLong(0)).isEqualTo(1000L + i);
            if (i % 4 == 0) {
                assertThat(row.isNullAt(1)).as("row %d has no label", i).isTrue();
            } else {
                assertThat(row.getInt(1)).isEqualTo(i % 10);
            }
            List<Float> logits = row.getList(2);
            for (int c = 0; c < 10; c++) {
                assertThat(logits.get(c)).as("row %d class %d", i, c).isCloseTo(want[i * 10 + c], within(1e-5f));
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("soft");
        }
    }

    @Test
    void aRowOfTheWrongLengthFailsTheJobAndLeavesNothing() throws Exception {
        float[] x = dev.distill.teacher.TestOnnxTeacher.images(300);
        String target = dir.resolve("short").toString();
        assertThatThrownBy(() -> LabellingJob.label(examples(x, 783), SOURCE, "sha", MD, 64, "snappy", target))
                .rootCause().hasMessageEndingWith(" has 783 features; the teacher takes 784")
                .hasMessageStartingWith("row 1");
        try (Stream<Path> files = Files.walk(dir)) {
            assertThat(files.filter(p -> !p.equals(dir))).isEmpty();
        }
    }
}
