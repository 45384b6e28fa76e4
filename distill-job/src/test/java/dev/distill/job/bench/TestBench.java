package dev.distill.job.bench;

import dev.distill.datasets.ExampleSchema;
import dev.distill.testing.LocalSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.loss.DistillationLosses;
import dev.distill.student.TrainingSettings;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TestBench {
    @Test
    void medianOfOddAndEvenCounts() {
        assertThat(Bench.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
        assertThat(Bench.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
        Bench.Row r = Bench.Row.of("x", List.of(2.0, 9.0, 3.0), List.of(1.0, 3.0, 3.0), "rows/s", 0.85);
        assertThat(r.ratio()).as("median of the paired ratios 2, 3, 1").isEqualTo(2.0);
        assertThat(r.measured()).isEqualTo(3.0);
    }

    @Test
    void copiesOffsetTheIdsOfEachCopyPastTheLargestId() {
        SparkSession spark = LocalSpark.start();
        try {
            List<Row> rows = new ArrayList<>();
            for (long id : new long[] {0, 4, 7}) {
                rows.add(RowFactory.create(id, new float[] {id}, (int) id % 2));
            }
            Dataset<Row> ds = spark.createDataFrame(rows, ExampleSchema.SCHEMA);
            assertThat(LabellingBench.copies(ds, 1)).isSameAs(ds);
            List<Row> three = LabellingBench.copies(ds, 3).orderBy("id").collectAsList();
            assertThat(three.stream().map(r -> r.getLong(0))).containsExactly(0L, 4L, 7L, 8L, 12L, 15L, 16L, 20L, 23L);
            assertThat(three.get(4).<Float>getList(1)).containsExactly(4f);
            assertThat(three.get(4).getInt(2)).isEqualTo(0);
            assertThat(LabellingBench.copies(ds, 3).schema()).isEqualTo(ExampleSchema.SCHEMA);
        } finally {
            spark.stop();
        }
    }

    /** The PyTorch script builds the very network we train: the same parameter count for each architecture. */
    @Test
    void pyTorchTrainsTheSameNetwork() throws Exception {
        Path script = ConvTrainingBench.extractScript();
        try {
            List<List<LayerSpec>> archs = List.of(ConvTrainingBench.REFERENCE_CNN,
                    List.of(LayerSpec.conv(6, 5), LayerSpec.batchNorm(), LayerSpec.pool("avg", 2), LayerSpec.dense(20)),
                    List.of(LayerSpec.conv(4, 3).withStride(2).withPadding("valid"), LayerSpec.pool("max", 3)));
            TrainingSettings t = new TrainingSettings(1, 128, 1, 1, "adam", 0.001, 0.9, "constant", 1, 1, 0, 1);
            for (List<LayerSpec> layers : archs) {
                long ours = new NetworkSpec(new int[] {1, 28, 28}, 10, layers)
                        .newNetwork(DistillationLosses.hardLabels(), t, 1).numParams();
                ConvTrainingBench.Torch torch = ConvTrainingBench.torch(ConvTrainingBench.PYTHON, script, layers,
                        new int[] {1, 28, 28}, 10, 1, 0.001, 0.2);
                // .ci/run installs python3-torch; elsewhere the check is skipped (as the HTML rendering without Chromium).
                org.junit.jupiter.api.Assumptions.assumeTrue(torch.skipped() == null, torch.skipped());
                assertThat(torch.parameters()).as(layers.toString()).isEqualTo(ours);
                assertThat(torch.examplesPerSecond()).isPositive();
            }
        } finally {
            Files.deleteIfExists(script);
        }
    }

    @Test
    void architecturesTheScriptCannotBuildAreNamed() {
        assertThat(ConvTrainingBench.unsupported(ConvTrainingBench.REFERENCE_CNN)).isNull();
        assertThat(ConvTrainingBench.unsupported(List.of(LayerSpec.conv(4, 3).withStride(2))))
                .isEqualTo("a \"same\" convolution with stride 2 and kernel 3 (DL4J pads it asymmetrically)");
        assertThat(ConvTrainingBench.unsupported(List.of(LayerSpec.conv(4, 4))))
                .isEqualTo("a \"same\" convolution with stride 1 and kernel 4 (DL4J pads it asymmetrically)");
        assertThat(ConvTrainingBench.unsupported(List.of(LayerSpec.conv(4, 3).withActivation("swish"))))
                .isEqualTo("the activation swish");
    }

    /** Without torch the row is skipped, and says how to install it. */
    @Test
    void withoutTorchTheRowSaysWhy(@TempDir Path dir) throws Exception {
        Path python = dir.resolve("python3");
        Files.writeString(python, "#!/bin/sh\necho '{\"error\": \"no torch\"}'\nexit 3\n");
        Files.setPosixFilePermissions(python, PosixFilePermissions.fromString("rwx------"));
        ConvTrainingBench.Torch r = ConvTrainingBench.torch(python.toString(), dir.resolve("x.py"),
                ConvTrainingBench.REFERENCE_CNN, new int[] {1, 28, 28}, 10, 1, 0.001, 0.1);
        assertThat(r.skipped()).isEqualTo("PyTorch cannot be imported by " + python + " (no torch; apt-get install"
                + " python3-torch)");
        assertThat(ConvTrainingBench.torch(dir.resolve("none").toString(), dir.resolve("x.py"),
                ConvTrainingBench.REFERENCE_CNN, new int[] {1, 28, 28}, 10, 1, 0.001, 0.1).skipped())
                .isEqualTo("no " + dir.resolve("none") + " (apt-get install python3-torch)");
        assertThat(Bench.table(List.of(Bench.Row.skipped("conv training: trainer vs PyTorch, 2 threads", r.skipped()))))
                .contains("conv training: trainer vs PyTorch, 2 threads         skipped: PyTorch cannot be imported by");
    }
}
