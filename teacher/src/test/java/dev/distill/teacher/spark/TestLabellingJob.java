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

    /**
     * Views stored as top-k (k = 3): each view's three largest logits, their classes and the logsumexp are the
     * teacher's on the view; the reader expands the image's own logits and hands the views on compact, and the
     * packer keeps them so (k numbers per view in the cached minibatch, not C).
     */
    @Test
    void topKViewsAreTheTeachersTopKOnEachViewAndStayCompactInTheBatches() throws Exception {
        float[] x = dev.distill.teacher.TestOnnxTeacher.images(300);
        String target = dir.resolve("topviews").toString();
        var aug = new dev.distill.datasets.augment.Augmentation(1, 0.5, 0, 0);
        LabellingJob.Views views = new LabellingJob.Views(3, aug, new int[] {1, 28, 28}, 9);
        SoftLabelMetadata md = MD.withTopK(3).withViews(3, aug.toString());
        LabellingJob.label(examples(x, 784), SOURCE, "sha", md, 64, "snappy", target, 300, views);
        var info = SoftLabelStore.inspect(spark.sparkContext().hadoopConfiguration(), target);
        Dataset<Row> read = dev.distill.datasets.spark.SoftLabelReader.read(spark, target, info.metadata(), examples(x, 784));
        assertThat(read.schema().fieldNames()).containsExactly("id", "features", "label", "teacher_logits", "view_boxes",
                "view_topk_index", "view_topk_logit", "view_logsumexp");
        List<Row> back = read.orderBy("id").collectAsList();
        try (OnnxTeacher t = new OnnxTeacher(Files.readAllBytes(MODEL), "m", IMAGE, 784, 10, 1)) {
            for (int i : new int[] {0, 77, 299}) {
                Row row = back.get(i);
                float[] rendered = new float[3 * 784];
                for (int v = 0; v < 3; v++) {
                    views.view(row.getLong(0), v).render(x, i * 784, 1, 28, 28, rendered, v * 784);
                }
                float[] logits = t.logits(rendered, 3);
                List<Integer> index = row.getList(5);
                List<Float> top = row.getList(6);
                List<Float> lse = row.getList(7);
                for (int v = 0; v < 3; v++) {
                    var want = dev.distill.datasets.softlabels.TopK.of(Arrays.copyOfRange(logits, v * 10, v * 10 + 10), 3);
                    for (int j = 0; j < 3; j++) {
                        assertThat(index.get(v * 3 + j)).as("row %d view %d", i, v).isEqualTo(want.index()[j]);
                        assertThat(top.get(v * 3 + j)).isCloseTo(want.logit()[j], within(1e-4f));
                    }
                    assertThat(lse.get(v)).isCloseTo(want.logSumExp(), within(1e-4f));
                }
                var own = dev.distill.datasets.softlabels.TopK.of(Arrays.copyOf(logits, 10), 3);
                List<Float> expanded = row.getList(3);
                assertThat(expanded.get(own.index()[0])).isCloseTo(own.logit()[0], within(1e-4f));
            }
        }
        var batches = dev.distill.student.spark.BatchPacker.pack(read, 10, 784, 2, 32, 1, true).collect();
        var first = batches.get(0);
        assertThat(first.viewTopK()).isEqualTo(3);
        assertThat(first.viewLogits()).hasSize(first.rows() * 3 * 3);
        assertThat(first.viewTopIndex()).hasSize(first.rows() * 3 * 3);
        assertThat(first.viewLogSumExp()).hasSize(first.rows() * 3);
        Row same = back.stream().filter(r -> r.getLong(0) == first.ids()[0]).findFirst().orElseThrow();
        for (int j = 0; j < 9; j++) {
            assertThat(first.viewTopIndex()[j]).isEqualTo((int) same.<Integer>getList(5).get(j));
            assertThat(first.viewLogits()[j]).isEqualTo(same.<Float>getList(6).get(j));
        }
    }

    /** A teacher call holds batch-size views, whatever the number of views per example. */
    @Test
    void aCallHoldsBatchSizeViews() {
        assertThat(LabellingJob.imagesPerCall(512, 1)).isEqualTo(512);
        assertThat(LabellingJob.imagesPerCall(512, 6)).isEqualTo(85);
        assertThat(LabellingJob.imagesPerCall(64, 100)).isEqualTo(1);
    }

    /**
     * Four views per row (16 examples per teacher call of 64 views, the last call short): view 0 is the image and its logits are teacher_logits; every view's box is the one
     * (seed, id, view) draws, and its logits are the teacher's on that view rendered from the box; the footer
     * records the views and the augmentation (schema version 3).
     */
    @Test
    void storedViewsHoldEachViewsBoxAndTheTeachersLogitsOnIt() throws Exception {
        float[] x = dev.distill.teacher.TestOnnxTeacher.images(300);
        String target = dir.resolve("views").toString();
        var aug = new dev.distill.datasets.augment.Augmentation(0, 0.5, 0.5, 1);
        LabellingJob.Views views = new LabellingJob.Views(4, aug, new int[] {1, 28, 28}, 42);
        SoftLabelMetadata md = MD.withViews(4, aug.toString());
        LabellingJob.Result r = LabellingJob.label(examples(x, 784), SOURCE, "sha", md, 64, "snappy", target, 300, views);
        assertThat(r.rows()).isEqualTo(300);
        var info = SoftLabelStore.inspect(spark.sparkContext().hadoopConfiguration(), target);
        assertThat(info.metadata().views()).isEqualTo(4);
        assertThat(info.metadata().augmentation()).isEqualTo(aug.toString());
        assertThat(info.metadata().toFooter()).containsEntry("distill.schema_version", "3").containsEntry("distill.views", "4");
        List<Row> back = dev.distill.datasets.spark.SoftLabelReader.logits(spark, target, info.metadata())
                .orderBy("id").collectAsList();
        try (OnnxTeacher t = new OnnxTeacher(Files.readAllBytes(MODEL), "m", IMAGE, 784, 10, 1)) {
            for (int i : new int[] {0, 1, 137, 299}) {
                Row row = back.get(i);
                long id = row.getLong(0);
                List<Integer> boxes = row.getList(3);
                List<Float> logits = row.getList(4);
                assertThat(boxes).hasSize(20);
                assertThat(logits).hasSize(40);
                float[] rendered = new float[4 * 784];
                for (int v = 0; v < 4; v++) {
                    var view = views.view(id, v);
                    assertThat(boxes.subList(v * 5, v * 5 + 5)).containsExactly(view.x(), view.y(), view.width(),
                            view.height(), view.flip() ? 1 : 0);
                    view.render(x, i * 784, 1, 28, 28, rendered, v * 784);
                }
                assertThat(boxes.subList(0, 5)).containsExactly(0, 0, 28, 28, 0);
                float[] want = t.logits(rendered, 4);
                for (int k = 0; k < 40; k++) {
                    assertThat(logits.get(k)).as("row %d logit %d", i, k).isCloseTo(want[k], within(1e-4f));
                }
                List<Float> plain = row.getList(2);
                assertThat(plain).isEqualTo(logits.subList(0, 10));
                assertThat(boxes.subList(5, 20)).as("views 1..3 are not the image").isNotEqualTo(
                        List.of(0, 0, 28, 28, 0, 0, 0, 28, 28, 0, 0, 0, 28, 28, 0));
            }
        }
        assertThatThrownBy(() -> LabellingJob.label(examples(x, 784), SOURCE, "sha", MD, 64, "snappy",
                dir.resolve("x").toString(), 300, views)).hasMessage("labelling 4 views into soft labels that declare 1");
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
