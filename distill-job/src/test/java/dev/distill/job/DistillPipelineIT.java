package dev.distill.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The whole pipeline on a small real subset of Fashion-MNIST (3,000 training and 1,000 test images) on
 * embedded Spark, through the command line entry point, as a user runs it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistillPipelineIT {
    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    static Path dir;
    static Path job;
    static Path out;

    @BeforeAll
    static void writeJob() throws Exception {
        out = dir.resolve("out");
        job = Files.writeString(dir.resolve("small.conf"), """
                include file("%s")
                kd {
                  output-dir = "%s"
                  spark { master = "local[2]", conf { "spark.ui.enabled" = false } }
                  dataset { max-train-rows = 3000, max-test-rows = 1000, partitions = 3 }
                  teacher {
                    architecture.layers = [ { type = dense, units = 128, dropout = 0.1 } ]
                    training { epochs = 2, averaging-frequency = 4 }
                  }
                  student {
                    architecture.layers = [ { type = dense, units = 16 } ]
                    distillation { temperature = 3, alpha = 0.5 }
                    training { epochs = 3, averaging-frequency = 4 }
                  }
                  report.speed-seconds = 0.2
                }
                """.formatted(Path.of("..", "conf", "fashion-mnist.conf").toAbsolutePath(), out));
    }

    /** Arguments of {@code command} on the small job with the first test's trained teacher loaded, into {@code outputDir}. */
    private static String[] onTrainedTeacher(String command, Path outputDir, String... extra) {
        return Stream.concat(Stream.of(command, job.toString(), "-Dkd.output-dir=" + outputDir, "-Dkd.teacher.source=load",
                "-Dkd.teacher.model=" + out.resolve("teacher/model.zip")), Arrays.stream(extra)).toArray(String[]::new);
    }

    private static SparkSession spark() {
        return LocalSpark.start();
    }

    @Test
    @Order(1)
    void runProducesModelsSoftLabelsReportAndExport() throws Exception {
        CliRun r = CliRun.of("run", job.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("teacher", "student", "baseline", "distillation gain over the hard-label baseline",
                "report       " + out.resolve("report/report.json") + "\n               " + out.resolve("report/report.html"));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report/report.json").toFile());
        assertThat(report.at("/teacher/test_accuracy").asDouble()).isBetween(0.6, 1.0);
        List<String> metrics = Files.readAllLines(out.resolve("report/metrics.jsonl"));
        assertThat(metrics).hasSize(2 + 3 + 3);
        JsonNode last = new ObjectMapper().readTree(metrics.get(metrics.size() - 1));
        assertThat(last.at("/model").asText()).isEqualTo("baseline");
        assertThat(last.at("/epoch").asInt()).isEqualTo(3);
        assertThat(last.at("/epochs").asInt()).isEqualTo(3);
        assertThat(last.at("/examples").asLong()).isEqualTo(3000);
        assertThat(last.at("/test_accuracy").asDouble()).isEqualTo(report.at("/baseline/history/2/test_accuracy").asDouble());
        String html = Files.readString(out.resolve("report/report.html"));
        for (String id : dev.distill.job.report.ReportHtml.CHARTS) {
            assertThat(html).contains("<figure id=\"" + id + "\">");
        }
        assertThat(html).contains(String.format(java.util.Locale.ROOT, "<td>teacher</td><td>%.2f%%</td>", 100 * report.at("/teacher/test_accuracy").asDouble()));
        // conf/fashion-mnist.conf names its classes: report.json, the page and the export's provenance carry them.
        assertThat(report.at("/class_names/0").asText()).isEqualTo("T-shirt/top");
        assertThat(report.at("/class_names/9").asText()).isEqualTo("Ankle boot");
        assertThat(html).contains("<title>true Ankle boot, predicted Ankle boot: ");
        assertThat(report.at("/teacher/parameters").asLong()).isEqualTo(784 * 128 + 128 + 128 * 10 + 10);
        assertThat(report.at("/student/parameters").asLong()).isEqualTo(784 * 16 + 16 + 16 * 10 + 10);
        assertThat(report.at("/student/test_accuracy").asDouble()).isBetween(0.5, 1.0);
        assertThat(report.at("/student/teacher_agreement").asDouble()).isBetween(0.5, 1.0);
        assertThat(report.at("/student/model_file_bytes").asLong())
                .isEqualTo(Files.size(out.resolve("student/model.zip")));
        assertThat(report.at("/baseline/test_accuracy").isNumber()).isTrue();
        assertThat(report.at("/student/confusion_matrix").size()).isEqualTo(10);
        assertThat(report.at("/student/history").size()).isEqualTo(3);
        assertThat(out.resolve("export/student.zip")).exists();
        JsonNode provenance = new ObjectMapper().readTree(out.resolve("export/provenance.json").toFile());
        assertThat(provenance.at("/teacher_sha256").asText()).hasSize(64);
        assertThat(provenance.at("/soft_label_rows/train").asLong()).isEqualTo(3000);
        assertThat(provenance.at("/data/class_names").size()).isEqualTo(10);
        assertThat(provenance.at("/data/class_names/3").asText()).isEqualTo("Dress");
        assertThat(provenance.at("/versions/deeplearning4j").asText()).isEqualTo("1.0.0-M2.1");
        assertThat(provenance.at("/config/student/distillation/temperature").asDouble()).isEqualTo(3.0);
        // The int8 file loads in the dependency-free runtime and tracks the fp32 student.
        dev.distill.runtime.Int8Model int8 = dev.distill.runtime.ModelFile.read(out.resolve("export/student.int8"));
        assertThat(int8.parameters()).isEqualTo(784 * 16 + 16 + 16 * 10 + 10);
        assertThat(provenance.at("/int8/agreement_with_fp32_student").asDouble()).isGreaterThan(0.95);
        assertThat(provenance.at("/int8/test_accuracy").asDouble()).isBetween(0.5, 1.0);
        assertThat(provenance.at("/int8/file_bytes").asLong()).isEqualTo(Files.size(out.resolve("export/student.int8")));
        try (Stream<Path> logs = Files.list(out.resolve("logs"))) {
            assertThat(logs).isNotEmpty();
        }
        // The stage table: every deployable form, measured, the files against the fp32 student they stand for.
        JsonNode stages = report.at("/stages");
        assertThat(names(stages))
                .containsExactly("teacher fp32", "student fp32", "student int8 file", "student ONNX (QDQ)");
        for (JsonNode s : stages) {
            assertThat(s.at("/latency_batch1_median_ms").asDouble()).isPositive()
                    .isLessThanOrEqualTo(s.at("/latency_batch1_p95_ms").asDouble());
            assertThat(s.at("/throughput_batch256_rows_per_s").asDouble()).isPositive();
            assertThat(s.at("/file_bytes").asLong()).isPositive();
        }
        assertThat(stages.get(2).at("/file_bytes").asLong()).isEqualTo(Files.size(out.resolve("export/student.int8")));
        // Measured once per run: export's check and the stage table hold the same figure for the int8 file.
        assertThat(stages.get(2).at("/test_accuracy").asDouble()).isEqualTo(provenance.at("/int8/test_accuracy").asDouble());
        assertThat(stages.get(2).at("/agreement_with/stage").asText()).isEqualTo("student fp32");
        assertThat(stages.get(2).at("/agreement_with/agreement").asDouble()).isGreaterThan(0.95);
        assertThat(stages.get(3).at("/agreement_with/agreement").asDouble()).isGreaterThan(0.95);
        assertThat(stages.get(3).at("/test_accuracy").asDouble())
                .isCloseTo(stages.get(2).at("/test_accuracy").asDouble(), within(0.005));
        assertThat(r.out()).contains("stages (test split; latency and throughput on one thread):", "student ONNX (QDQ)");
    }

    @Test
    @Order(2)
    void softLabelsFollowTheContractAndARerunWritesTheSameRows() throws Exception {
        SparkSession spark = spark();
        List<Row> before = spark.read().parquet(out.resolve("soft-labels/train").toString()).orderBy("id").collectAsList();
        assertThat(spark.read().parquet(out.resolve("soft-labels/train").toString()).schema().fieldNames())
                .containsExactly("id", "label", "teacher_logits");
        assertThat(before).hasSize(3000);
        assertThat(before.stream().map(r -> r.getLong(0)).distinct().count()).isEqualTo(3000);
        assertThat(before.get(0).getList(2)).hasSize(10);
        spark.stop();

        CliRun r = CliRun.of("label", job.toString());
        assertThat(r.code()).as(r.err()).isZero();
        spark = spark();
        List<Row> after = spark.read().parquet(out.resolve("soft-labels/train").toString()).orderBy("id").collectAsList();
        assertThat(after).hasSize(3000);
        for (int i = 0; i < after.size(); i += 97) {
            assertThat(after.get(i).getLong(0)).isEqualTo(before.get(i).getLong(0));
            assertThat(after.get(i).getList(2)).isEqualTo(before.get(i).getList(2));
        }
        spark.stop();
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")))
                    .as("no temporary files; the (released) lock stays").containsExactly(".lock");
        }
    }

    @Test
    @Order(3)
    void featureLengthOrDataMismatchFailsBeforeTraining() throws Exception {
        byte[] model = Files.readAllBytes(out.resolve("student/model.zip"));
        CliRun r = CliRun.of("train-student", job.toString(), "-Dkd.dataset.input-shape=[100]");
        assertThat(r.code()).as("an input shape that does not fit the data is a configuration error").isEqualTo(2);
        assertThat(r.err()).contains("command line -Dkd.dataset.input-shape: kd.dataset.input-shape = [100]: holds 100"
                + " values but each row of /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz has 784 features;"
                + " the product of the shape must be the feature count (e.g. [784] or [1, 28, 28])\n");
        assertThat(Files.readAllBytes(out.resolve("student/model.zip"))).isEqualTo(model);
        CliRun other = CliRun.of("train-student", job.toString(), "-Dkd.dataset.max-train-rows=2999");
        assertThat(other.code()).isEqualTo(1);
        assertThat(other.err()).startsWith("distill: train-student failed: soft labels in "
                + out.resolve("soft-labels/train") + " were made from other data than the train split of kd.dataset (its"
                + " settings, paths or file sizes changed since `distill label`); rerun `distill label <job.conf>`\n");
        assertThat(Files.readAllBytes(out.resolve("student/model.zip"))).isEqualTo(model);
    }

    @Test
    @Order(4)
    void truncatedParquetIsNamedAndNothingIsOverwritten() throws Exception {
        Path part = out.resolve("soft-labels/train/part-00001.parquet");
        byte[] bytes = Files.readAllBytes(part);
        Files.write(part, Arrays.copyOf(bytes, bytes.length / 3));
        byte[] model = Files.readAllBytes(out.resolve("student/model.zip"));
        CliRun r = CliRun.of("train-student", job.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("distill: train-student failed: soft-label file file:" + part
                + " is not a readable Parquet file (truncated or corrupt: ");
        assertThat(r.err().lines().count()).isEqualTo(2);
        assertThat(Files.readAllBytes(out.resolve("student/model.zip"))).isEqualTo(model);
    }

    @Test
    @Order(5)
    void aLoadedTeacherSkipsTeacherTraining() throws Exception {
        Path other = dir.resolve("loaded");
        Path log = Path.of(System.getProperty("distill.log"));
        long before = Files.readAllLines(log).stream().filter(l -> l.contains("student: epoch 3/3")).count();
        String[] quiet = withConsole(onTrainedTeacher("run", other, "-Dkd.student.baseline=false", "--quiet"));
        assertThat(quiet[0]).as("--quiet prints no tables").isEmpty();
        assertThat(quiet[1]).as("--quiet shows no progress").doesNotContain(" INFO ");
        assertThat(Files.readAllLines(log).stream().filter(l -> l.contains("student: epoch 3/3")).count())
                .as("the log file still has the progress").isEqualTo(before + 1);
        assertThat(other.resolve("teacher")).doesNotExist();
        assertThat(other.resolve("baseline")).doesNotExist();
        JsonNode report = new ObjectMapper().readTree(other.resolve("report/report.json").toFile());
        assertThat(report.at("/teacher/model_file").asText()).isEqualTo(out.resolve("teacher/model.zip").toString());
        assertThat(report.at("/student/test_accuracy").asDouble()).isBetween(0.5, 1.0);
        assertThat(report.has("baseline")).isFalse();
    }

    /**
     * Quantisation-aware training of the student: the int8 file and the ONNX file both predict what the
     * fake-quantised network predicts (≥ 99.5% of test rows), within 0.2 points of its accuracy.
     */
    @Test
    @Order(6)
    void quantisationAwareStudentExportsFilesThatMatchItsFakeQuantisedForwardPass() throws Exception {
        Path qat = dir.resolve("qat");
        CliRun r = CliRun.of(onTrainedTeacher("run", qat, "-Dkd.student.baseline=false",
                "-Dkd.student.quantisation.enabled=true", "-Dkd.student.quantisation.start-step=20"));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(qat.resolve("report/report.json").toFile());
        JsonNode stages = report.at("/stages");
        assertThat(names(stages)).containsExactly("teacher fp32", "student fp32",
                "student fake-quantised", "student int8 file", "student ONNX (QDQ)");
        double fake = stages.get(2).at("/test_accuracy").asDouble();
        for (int i : new int[] {3, 4}) {
            assertThat(stages.get(i).at("/agreement_with/stage").asText()).isEqualTo("student fake-quantised");
            assertThat(stages.get(i).at("/agreement_with/agreement").asDouble()).as(stages.get(i).at("/stage").asText())
                    .isGreaterThanOrEqualTo(0.995);
            assertThat(stages.get(i).at("/test_accuracy").asDouble()).isCloseTo(fake, within(0.002));
        }
        assertThat(report.at("/student/test_accuracy").asDouble()).isCloseTo(fake, within(0.002));
        assertThat(report.at("/student/quantisation_aware/weight_bits").asInt()).isEqualTo(8);
        JsonNode provenance = new ObjectMapper().readTree(qat.resolve("export/provenance.json").toFile());
        assertThat(provenance.at("/int8/method").asText()).startsWith("quantisation-aware training (8-bit weights");
        assertThat(provenance.at("/int8/agreement_with_fake_quantised_student").asDouble()).isGreaterThanOrEqualTo(0.995);
    }

    /**
     * A low-rank student whose rank is the share of energy to keep, initialised from the truncated SVD of
     * the first test's trained student and pruned while it is distilled.
     */
    @Test
    @Order(7)
    void lowRankStudentStartsFromTheSvdOfATrainedOneAndIsPruned() throws Exception {
        Path qat = dir.resolve("qat");
        CliRun r = CliRun.of(onTrainedTeacher("train-student", qat, "-Dkd.student.baseline=false",
                "-Dkd.student.architecture.layers=[{type = dense, units = 16, rank = 0.8}]",
                "-Dkd.student.architecture.init-from=" + out.resolve("student/model.zip"),
                "-Dkd.student.pruning.enabled=true", "-Dkd.student.pruning.final-sparsity=0.5",
                "-Dkd.student.pruning.steps=2", "-Dkd.student.pruning.frequency=4"));
        assertThat(r.code()).as(r.err()).isZero();
        var net = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(qat.resolve("student/model.zip").toFile());
        int rank = (int) net.getLayer(0).getParam("W").size(1);
        assertThat(rank).isBetween(1, 15);
        assertThat(net.numParams()).isEqualTo(784L * rank + rank * 16L + 16 + 16 * 10 + 10);
        var sparsity = dev.distill.student.compress.Pruning.sparsityByLayer(net);
        assertThat(sparsity).allSatisfy(m -> assertThat(m.sparsity()).isGreaterThanOrEqualTo(0.49));
        JsonNode history = new ObjectMapper().readTree(qat.resolve("student/history.json").toFile());
        // Started from a trained network, the first epoch is already far above chance.
        assertThat(history.at("/epochs/0/test_accuracy").asDouble()).isGreaterThan(0.6);
    }

    /** A student the runtime cannot run gets no int8 or ONNX file, and the earlier student's files are gone. */
    @Test
    @Order(8)
    void aStudentTheRuntimeCannotRunIsExportedAsAZipOnly() throws Exception {
        Path qat = dir.resolve("qat");
        assertThat(qat.resolve("export/student.int8")).exists();
        for (String command : new String[] {"train-student", "export", "evaluate"}) {
            CliRun r = CliRun.of(onTrainedTeacher(command, qat, "-Dkd.student.baseline=false",
                    "-Dkd.student.architecture.layers=[{type = dense, units = 16}, {type = batch-norm}]"));
            assertThat(r.code()).as(command + ": " + r.err()).isZero();
        }
        assertThat(qat.resolve("export/student.int8")).doesNotExist();
        assertThat(qat.resolve("export/student.onnx")).doesNotExist();
        JsonNode provenance = new ObjectMapper().readTree(qat.resolve("export/provenance.json").toFile());
        assertThat(provenance.at("/int8/skipped").asText()).isEqualTo("layer 1 is a batch normalisation after layer 0,"
                + " whose activation is relu; it can be folded into that layer only when the layer's activation is"
                + " identity (conv, batch-norm, then the activation on the batch norm)");
        JsonNode report = new ObjectMapper().readTree(qat.resolve("report/report.json").toFile());
        assertThat(names(report.at("/stages"))).containsExactly("teacher fp32", "student fp32");
    }

    /**
     * A teacher exported from PyTorch (teacher/src/test/resources/onnx, made by scripts/make-onnx-teacher.py)
     * labels the data inside the executors; its soft labels hold PyTorch's logits within 1e-3. Without the
     * input shape the job stops before Spark with what the model declares and what the data provides.
     */
    @Test
    @Order(9)
    void anOnnxTeacherFromPyTorchLabelsWithPyTorchsLogits() throws Exception {
        Path model = Path.of("..", "teacher", "src", "test", "resources", "onnx", "fashion-cnn.onnx").toAbsolutePath();
        Path onnx = dir.resolve("onnx été 東京 #1");   // any name the file system accepts, taken literally
        String[] common = {"-Dkd.output-dir=" + onnx, "-Dkd.teacher.source=load", "-Dkd.teacher.model=" + model,
                "-Dkd.student.baseline=false"};
        CliRun missing = CliRun.of("label", job.toString(), common[0], common[1], common[2]);
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("kd.teacher.model = \"" + model + "\": input 'image' is declared [batch, 1,"
                + " 28, 28] but the data set provides [batch, 784] (784 features per row; set kd.teacher.onnx.input-shape,"
                + " e.g. [1, 28, 28] for an NCHW image model)");
        CliRun r = CliRun.of("run", job.toString(), common[0], common[1], common[2], common[3],
                "-Dkd.teacher.onnx.input-shape=[1, 28, 28]");
        assertThat(r.code()).as(r.err()).isZero();
        SparkSession spark = spark();
        List<Row> rows = spark.read().parquet(onnx.resolve("soft-labels/test").toString()).orderBy("id").limit(64)
                .collectAsList();
        List<String> expected = Files.readAllLines(model.resolveSibling("fashion-cnn-logits.csv"));
        for (int i = 0; i < 64; i++) {
            assertThat(rows.get(i).getLong(0)).isEqualTo(i);
            List<Float> logits = rows.get(i).getList(2);
            String[] want = expected.get(i).split(",");
            for (int c = 0; c < 10; c++) {
                assertThat(logits.get(c)).as("image %d class %d", i, c).isCloseTo(Float.parseFloat(want[c]), within(1e-3f));
            }
        }
        spark.stop();
        JsonNode report = new ObjectMapper().readTree(onnx.resolve("report/report.json").toFile());
        assertThat(report.at("/teacher/parameters").asLong()).isEqualTo(9098);
        assertThat(report.at("/stages/0/engine").asText()).isEqualTo("ONNX Runtime");
        assertThat(report.at("/student/test_accuracy").asDouble()).isBetween(0.5, 1.0);
    }

    /**
     * A DL4J teacher and an ONNX teacher label as one ensemble: every logit is the log of the mean of their
     * probabilities, and the footer and provenance name both with their hashes. A misspelt key in a member is
     * a configuration error naming it.
     */
    @Test
    @Order(9)
    void anEnsembleOfADl4jAndAnOnnxTeacherLabelsWithTheMeanOfTheirProbabilities() throws Exception {
        Path onnxModel = Path.of("..", "teacher", "src", "test", "resources", "onnx", "fashion-cnn.onnx").toAbsolutePath();
        Path ensemble = dir.resolve("ensemble");
        String member = "-Dkd.teacher.ensemble=[{ model = \"" + onnxModel + "\", onnx.input-shape = [1, 28, 28] }]";
        CliRun typo = CliRun.of(onTrainedTeacher("label", ensemble,
                "-Dkd.teacher.ensemble=[{ model = \"" + onnxModel + "\", onnx.input-shap = [1, 28, 28] }]"));
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err()).contains("kd.teacher.ensemble[0].onnx.input-shap = [1,28,28]: unknown key; valid keys:"
                + " input, input-shape, output, output-type");
        assertThat(ensemble.resolve("soft-labels")).doesNotExist();
        Path gone = dir.resolve("no-such-teacher.onnx");
        CliRun missing = CliRun.of(onTrainedTeacher("label", ensemble, "-Dkd.teacher.ensemble=[{ model = \"" + gone
                + "\" }]"));
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).contains("teacher model not found: " + gone + "; check kd.teacher.ensemble[0].model");
        assertThat(ensemble.resolve("soft-labels")).doesNotExist();

        CliRun r = CliRun.of(onTrainedTeacher("label", ensemble, member));
        assertThat(r.code()).as(r.err()).isZero();
        SparkSession spark = spark();
        List<Row> rows = spark.read().parquet(ensemble.resolve("soft-labels/test").toString()).orderBy("id").limit(64)
                .collectAsList();
        List<Row> dl4j = spark.read().parquet(out.resolve("soft-labels/test").toString()).orderBy("id").limit(64)
                .collectAsList();
        List<String> onnx = Files.readAllLines(onnxModel.resolveSibling("fashion-cnn-logits.csv"));
        for (int i = 0; i < 64; i++) {
            assertThat(rows.get(i).getLong(0)).isEqualTo(i);
            double[] a = logSoftmax(dl4j.get(i).<Float>getList(2).stream().mapToDouble(Float::doubleValue).toArray());
            double[] b = logSoftmax(Arrays.stream(onnx.get(i).split(",")).mapToDouble(Double::parseDouble).toArray());
            List<Float> got = rows.get(i).getList(2);
            for (int c = 0; c < 10; c++) {
                double want = Math.log((Math.exp(a[c]) + Math.exp(b[c])) / 2);
                assertThat((double) got.get(c)).as("image %d class %d", i, c).isCloseTo(want, within(2e-3));
            }
        }
        spark.stop();
        var info = dev.distill.datasets.softlabels.SoftLabelStore.inspect(new org.apache.hadoop.conf.Configuration(),
                ensemble.resolve("soft-labels/train").toString());
        assertThat(info.metadata().teacherId()).isEqualTo("ensemble of model.zip, fashion-cnn.onnx");
        String dl4jSha = sha256(out.resolve("teacher/model.zip"));
        String onnxSha = sha256(onnxModel);
        assertThat(info.metadata().ensemble()).isEqualTo("model.zip sha256:" + dl4jSha + "; fashion-cnn.onnx sha256:"
                + onnxSha);
        JsonNode provenance = new ObjectMapper().readTree(ensemble.resolve("soft-labels/provenance.json").toFile());
        assertThat(provenance.toString()).contains("fashion-cnn.onnx sha256:" + onnxSha);
        assertThat(provenance.toString()).contains(info.metadata().teacherSha256());
    }

    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }

    private static double[] logSoftmax(double[] z) {
        double max = Arrays.stream(z).max().orElseThrow();
        double lse = max + Math.log(Arrays.stream(z).map(v -> Math.exp(v - max)).sum());
        return Arrays.stream(z).map(v -> v - lse).toArray();
    }

    /**
     * The same 3,000 training and 1,000 test images as PNG files in class folders (made by {@code idx-to-images})
     * and as a Hugging Face style Parquet file: each job runs end to end, the loaded teacher scores exactly as on
     * the IDX files (the same pixels), and the classes are named by the folders or the file's metadata.
     */
    @Test
    @Order(10)
    void imageFolderAndHuggingFaceParquetJobsRunOnTheSameImages() throws Exception {
        String fm = dev.distill.datasets.DatasetSettings.DEFAULT_FASHION_MNIST;
        String names = "T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot";
        Path images = dir.resolve("images");
        for (String[] split : new String[][] {{"train", "train", "3000"}, {"test", "t10k", "1000"}}) {
            for (String target : new String[] {split[0], split[0] + ".parquet"}) {
                CliRun w = CliRun.of("idx-to-images", fm + "/" + split[1] + "-images-idx3-ubyte.gz",
                        fm + "/" + split[1] + "-labels-idx1-ubyte.gz", images.resolve(target).toString(),
                        "--class-names", names, "--limit", split[2]);
                assertThat(w.code()).as(w.err()).isZero();
            }
        }
        assertThat(images.resolve("train/9-Ankle boot/00000.png")).exists();   // image 0 is an ankle boot
        CliRun again = CliRun.of("idx-to-images", fm + "/t10k-images-idx3-ubyte.gz", "", images.resolve("test").toString());
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).isEqualTo("distill idx-to-images: " + images.resolve("test") + " exists; choose a new"
                + " folder or file (nothing is overwritten)\n");
        double idxTeacher = new ObjectMapper().readTree(out.resolve("report/report.json").toFile())
                .at("/teacher/test_accuracy").asDouble();
        String[] common = {"-Dkd.dataset.train-labels=\"\"", "-Dkd.dataset.test-labels=\"\"",
            "-Dkd.dataset.input-shape=[1,28,28]", "-Dkd.dataset.class-names=[]", "-Dkd.dataset.max-train-rows=0",
            "-Dkd.dataset.max-test-rows=0", "-Dkd.student.training.epochs=1", "-Dkd.student.baseline=false"};
        String[][] jobs = {
            {"folder", "0-T-shirt-top", "-Dkd.dataset.format=image-folder", "-Dkd.dataset.train=" + images.resolve("train"),
                "-Dkd.dataset.test=" + images.resolve("test")},
            {"parquet", "T-shirt/top", "-Dkd.dataset.format=parquet", "-Dkd.dataset.parquet.image-column=image",
                "-Dkd.dataset.train=" + images.resolve("train.parquet"), "-Dkd.dataset.test=" + images.resolve("test.parquet")},
        };
        for (String[] job : jobs) {
            Path target = dir.resolve("images-" + job[0]);
            String[] extra = Stream.concat(Arrays.stream(common), Arrays.stream(job).skip(2)).toArray(String[]::new);
            CliRun r = CliRun.of(onTrainedTeacher("run", target, extra));
            assertThat(r.code()).as(job[0] + ": " + r.err()).isZero();
            JsonNode report = new ObjectMapper().readTree(target.resolve("report/report.json").toFile());
            // One teacher, the same pixels: the same score (batches of another size may round a near tie
            // the other way, at most one image in a thousand).
            assertThat(report.at("/teacher/test_accuracy").asDouble()).as(job[0]).isCloseTo(idxTeacher, within(0.0011));
            assertThat(report.at("/class_names/0").asText()).isEqualTo(job[1]);
            assertThat(report.at("/class_names/9").asText()).isEqualTo(job[0].equals("folder") ? "9-Ankle boot"
                    : "Ankle boot");
            JsonNode provenance = new ObjectMapper().readTree(target.resolve("export/provenance.json").toFile());
            assertThat(provenance.at("/soft_label_rows/train").asLong()).isEqualTo(3000);
            assertThat(provenance.at("/soft_label_rows/test").asLong()).isEqualTo(1000);
            assertThat(provenance.at("/data/class_names/0").asText()).isEqualTo(job[1]);
            assertThat(provenance.at("/int8/agreement_with_fp32_student").asDouble()).isGreaterThan(0.95);
        }
    }

    /** Labels withheld from the transfer set: the student learns from the teacher alone, with no baseline. */
    @Test
    @Order(10)
    void aTransferSetWithoutLabelsTrainsOnTheSoftTermAlone() throws Exception {
        Path unlabeled = dir.resolve("unlabeled");
        CliRun r = CliRun.of(onTrainedTeacher("run", unlabeled, "-Dkd.dataset.train-labels=\"\""));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(unlabeled.resolve("baseline/model.zip")).doesNotExist();
        JsonNode provenance = new ObjectMapper().readTree(unlabeled.resolve("student/provenance.json").toFile());
        assertThat(provenance.at("/labelled_rows").asLong()).isZero();
        assertThat(provenance.at("/soft_label_rows").asLong()).isEqualTo(3000);
        JsonNode report = new ObjectMapper().readTree(unlabeled.resolve("report/report.json").toFile());
        assertThat(report.has("baseline")).isFalse();
        assertThat(report.at("/student/test_accuracy").asDouble()).isBetween(0.6, 1.0);
    }

    /**
     * {@code compare} over 2 seeds with 10% of the labels kept: hard-label methods learn from the labelled rows,
     * distillation from all; every (method, seed) is scored on validation and test; the gains are over the best
     * hard-label method on validation; the comparison joins an existing report; a rerun reuses every result.
     */
    @Test
    @Order(10)
    void compareTrainsEachMethodOverSeedsAndReusesWhatItMade() throws Exception {
        Path cmp = dir.resolve("compare");
        Files.createDirectories(cmp.resolve("report"));
        Files.copy(out.resolve("report/report.json"), cmp.resolve("report/report.json"));
        String[] args = onTrainedTeacher("compare", cmp, "--seeds", "2", "-Dkd.student.training.epochs=1",
                "-Dkd.dataset.labelled-fraction=0.1", "-Dkd.dataset.input-shape=[1,28,28]", "-Dkd.augment.flip=0.5",
                "-Dkd.soft-labels.views=3",
                "-Dkd.compare.methods=[{name = \"hard labels\", loss = cross-entropy},"
                        + " {name = \"hard + flip\", loss = cross-entropy, augment = true},"
                        + " {name = hinton, loss = hinton, views = false}, {name = dist, loss = dist, views = false},"
                        + " {name = \"hinton on views\", loss = hinton}]");
        CliRun r = CliRun.of(args);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("comparison: 2 seeds, 12,730-parameter student");
        JsonNode c = new ObjectMapper().readTree(cmp.resolve("report/compare.json").toFile());
        assertThat(c.at("/seeds").asInt()).isEqualTo(2);
        long fit = c.at("/train_rows").asLong();
        assertThat(fit + c.at("/validation_rows").asLong()).isEqualTo(3000);   // validation: labelled rows only
        assertThat((double) c.at("/labelled_train_rows").asLong() / fit).isBetween(0.06, 0.13);
        assertThat(c.at("/validation_rows").asLong()).isBetween(15L, 60L);
        JsonNode methods = c.at("/methods");
        assertThat(methods.size()).isEqualTo(5);
        JsonNode best = null;
        for (JsonNode m : methods) {
            assertThat(m.at("/validation_accuracy").size()).isEqualTo(2);
            assertThat(m.at("/test_accuracy").size()).isEqualTo(2);
            if (m.at("/name").asText().equals(c.at("/best_hard_label_method").asText())) {
                best = m;
            }
        }
        assertThat(best).isNotNull();
        assertThat(best.at("/hard_labels").asBoolean()).isTrue();
        JsonNode hinton = methods.get(2);
        assertThat(hinton.at("/gain_points").asDouble()).isCloseTo(100 * (hinton.at("/test_mean").asDouble()
                - best.at("/test_mean").asDouble()), within(1e-9));
        assertThat(hinton.at("/significant").isBoolean()).isTrue();
        assertThat(methods.get(1).at("/augment").asBoolean()).isTrue();
        JsonNode report = new ObjectMapper().readTree(cmp.resolve("report/report.json").toFile());
        assertThat(report.at("/comparison/methods").size()).isEqualTo(5);
        // The soft labels hold 3 views per training row; a job asking for other views is refused.
        var info = dev.distill.datasets.softlabels.SoftLabelStore.inspect(new org.apache.hadoop.conf.Configuration(),
                cmp.resolve("soft-labels/train").toString());
        assertThat(info.metadata().views()).isEqualTo(3);
        assertThat(methods.get(4).at("/views").asBoolean()).isTrue();
        assertThat(methods.get(4).at("/test_mean").asDouble()).isNotEqualTo(hinton.at("/test_mean").asDouble());
        CliRun other = CliRun.of(onTrainedTeacher("train-student", cmp, "-Dkd.dataset.labelled-fraction=0.1",
                "-Dkd.dataset.input-shape=[1,28,28]", "-Dkd.augment.flip=0.5", "-Dkd.soft-labels.views=2"));
        assertThat(other.code()).isEqualTo(1);
        assertThat(other.err()).startsWith("distill: train-student failed: soft labels in "
                + cmp.resolve("soft-labels/train") + " hold 3 views (Augmentation[shift=0, flip=0.5, cropMin=0.0,"
                + " cropMax=0.0]) per example but the job asks for 2 views (Augmentation[shift=0, flip=0.5, cropMin=0.0,"
                + " cropMax=0.0]) (kd.soft-labels.views, kd.augment); rerun `distill label <job.conf>`\n");
        assertThat(Files.readString(cmp.resolve("report/report.html"))).contains("<table id=\"comparison\">");
        // A rerun trains nothing and reports the same figures.
        Path model = cmp.resolve("compare/hinton/seed-2/model.zip");
        java.nio.file.attribute.FileTime made = Files.getLastModifiedTime(model);
        CliRun again = CliRun.of(args);
        assertThat(again.code()).as(again.err()).isZero();
        assertThat(Files.getLastModifiedTime(model)).isEqualTo(made);
        JsonNode c2 = new ObjectMapper().readTree(cmp.resolve("report/compare.json").toFile());
        assertThat(c2.at("/methods")).isEqualTo(methods);
    }

    private static List<String> names(JsonNode stages) {
        List<String> names = new java.util.ArrayList<>();
        stages.forEach(s -> names.add(s.get("stage").asText()));
        return names;
    }
    /** Runs the CLI with the console (log4j follows System.err) captured; returns the run and the console. */
    private static String[] withConsole(String... args) {
        java.io.PrintStream console = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        CliRun r;
        try {
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            r = CliRun.of(args);
        } finally {
            System.setErr(console);
        }
        assertThat(r.code()).as(r.err()).isZero();
        return new String[] {r.out(), captured.toString(java.nio.charset.StandardCharsets.UTF_8)};
    }

    /**
     * A second `run` does no work and says so; changing only a student setting redoes the student's
     * stages and nothing before them; --force redoes everything.
     */
    @Test
    @Order(11)
    void rerunSkipsUpToDateStagesAndRedoesOnlyWhatChanged() throws Exception {
        Path resume = dir.resolve("resume");
        String[] common = onTrainedTeacher("run", resume, "-Dkd.student.baseline=false");
        withConsole(common);
        byte[] student = Files.readAllBytes(resume.resolve("student/model.zip"));
        String report = Files.readString(resume.resolve("report/report.json"));

        String[] again = withConsole(common);
        for (String stage : new String[] {"label", "train-student", "export", "evaluate"}) {
            assertThat(again[1]).contains(stage + ": up to date (");
        }
        assertThat(again[1]).contains("run: nothing to do, every stage is up to date with " + job
                + " (--force redoes them)").doesNotContain("student: epoch");
        assertThat(again[0]).as("the report is still printed").contains("model        test acc", "report       ");
        assertThat(Files.readAllBytes(resume.resolve("student/model.zip"))).isEqualTo(student);
        assertThat(Files.readString(resume.resolve("report/report.json"))).isEqualTo(report);

        String[] changed = withConsole(java.util.stream.Stream.concat(Arrays.stream(common),
                Stream.of("-Dkd.student.training.epochs=2")).toArray(String[]::new));
        assertThat(changed[1]).contains("label: up to date (",
                "train-student: kd.student changed since student/ and baseline/ was made; redoing it",
                "student: epoch 2/2", "export: student model, kd.student changed since export/ was made; redoing it",
                "evaluate: student model, exported files changed since report/ was made; redoing it");
        assertThat(new ObjectMapper().readTree(resume.resolve("report/report.json").toFile()).at("/student/history").size())
                .isEqualTo(2);

        String[] forced = withConsole(java.util.stream.Stream.concat(Arrays.stream(common),
                Stream.of("-Dkd.student.training.epochs=2", "--force")).toArray(String[]::new));
        for (String stage : new String[] {"label", "train-student", "export", "evaluate"}) {
            assertThat(forced[1]).contains(stage + ": redoing it (--force)");
        }
        // Forced training starts over: the checkpoint of the run before (same settings) is not resumed.
        assertThat(forced[1]).contains("student: epoch 1/2").doesNotContain("resuming from checkpoint");
    }
    /** Every Spark job of a run belongs to the job group of its stage, so the Spark UI names the stage. */
    @Test
    @Order(12)
    void everySparkJobIsInItsStagesJobGroup() throws Exception {
        Path events = Files.createDirectories(dir.resolve("events"));
        Path conf = Files.writeString(dir.resolve("events.conf"), """
                include file("%s")
                kd.spark.conf { "spark.eventLog.enabled" = true, "spark.eventLog.dir" = "%s", "spark.eventLog.compress" = false }
                """.formatted(job, events.toUri()));
        CliRun r = CliRun.of("run", conf.toString(), "-Dkd.output-dir=" + dir.resolve("grouped"));
        assertThat(r.code()).as(r.err()).isZero();
        List<String> groups = new java.util.ArrayList<>();
        try (Stream<Path> logs = Files.walk(events)) {   // Spark 4 writes rolling logs: a folder of events_* files
            for (String line : logs.filter(p -> p.getFileName().toString().startsWith("events_")).sorted()
                    .flatMap(p -> {
                        try {
                            return Files.readAllLines(p).stream();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).toList()) {
                JsonNode e = new ObjectMapper().readTree(line);
                if ("SparkListenerJobStart".equals(e.at("/Event").asText())) {
                    groups.add(e.at("/Properties/spark.jobGroup.id").asText("(none)"));
                }
            }
        }
        assertThat(groups).isNotEmpty();
        assertThat(new java.util.LinkedHashSet<>(groups))
                .containsExactly("train-teacher", "label", "train-student", "export", "evaluate");
    }

    /**
     * A failed export (the student's model zip damaged) leaves the previous export whole, provenance
     * included, and names the file; a failed run leaves no temporary files behind for long: the next run
     * removes them and says so.
     */
    @Test
    @Order(13)
    void aFailedExportLeavesThePreviousOneWhole() throws Exception {
        Path resume = dir.resolve("resume");
        Path export = resume.resolve("export");
        java.util.Map<String, byte[]> before = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.list(export)) {
            for (Path f : files.toList()) {
                before.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        assertThat(before).containsKeys("provenance.json", "student.zip", "student.int8", "student.onnx");
        Path model = resume.resolve("student/model.zip");
        byte[] good = Files.readAllBytes(model);
        Files.write(model, Arrays.copyOf(good, good.length / 2));
        CliRun r = CliRun.of(onTrainedTeacher("export", resume, "-Dkd.student.baseline=false"));
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("distill: export failed: ").contains(model.toString());
        assertThat(r.err().lines().count()).isEqualTo(2);
        java.util.Map<String, byte[]> after = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.list(export)) {
            for (Path f : files.toList()) {
                after.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        assertThat(after.keySet()).isEqualTo(before.keySet());
        for (String name : before.keySet()) {
            assertThat(after.get(name)).as(name).isEqualTo(before.get(name));
        }
        try (Stream<Path> files = Files.list(resume)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.contains(".tmp-"))).isEmpty();
        }
        Files.write(model, good);
        // A temporary folder left by a killed labelling run is removed by the next run, which says so.
        Path left = Files.createDirectories(resume.resolve("soft-labels").resolve(".train.tmp-dead0001"));
        Files.writeString(left.resolve("_attempt-7-part-00000.parquet"), "half");
        String[] console = withConsole(onTrainedTeacher("run", resume, "-Dkd.student.baseline=false"));
        assertThat(left).doesNotExist();
        assertThat(console[1]).contains("removed file:" + left + ", left by an earlier run that did not finish");
    }

    /**
     * A bad cell found inside an executor task: the run stops with one line naming the file, line and column;
     * the console shows no stack trace (Spark puts the task's trace inside its message), the log file has it.
     */
    @Test
    @Order(14)
    void aBadCellInATaskIsOneLineOnTheConsole() throws Exception {
        StringBuilder csv = new StringBuilder("f1,f2,label\n");
        for (int i = 0; i < 200; i++) {
            csv.append(i % 7).append(',').append(i == 120 ? "NaN" : Integer.toString(i % 5)).append(',').append(i % 2)
                    .append('\n');
        }
        Path data = Files.writeString(dir.resolve("cells.csv"), csv.toString());
        Path conf = Files.writeString(dir.resolve("cells.conf"), """
                kd {
                  output-dir = "%s"
                  spark { master = "local[2]", conf { "spark.ui.enabled" = false } }
                  dataset { format = csv, train = "%s", test = "%s", num-classes = 2, partitions = 2 }
                  teacher { architecture.layers = [ { type = dense, units = 4 } ], training.epochs = 1 }
                  student { architecture.layers = [ { type = dense, units = 2 } ], training.epochs = 1 }
                }
                """.formatted(dir.resolve("cells-out"), data, data));
        java.io.PrintStream console = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        CliRun r;
        try {
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            r = CliRun.of("run", conf.toString());
        } finally {
            System.setErr(console);
        }
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).startsWith("distill: run failed: " + data + ":122: column 2 'f2': \"NaN\" is not finite;"
                + " features must be finite numbers\ndistill: details in ");
        String shown = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(shown).as("the console").doesNotContain("\tat ", "Caused by");
        String log = Files.readString(Path.of(System.getProperty("distill.log")));
        assertThat(log).contains("distill run failed", "\tat ");
    }
}
