package dev.distill.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.IdxFile;
import dev.distill.settings.Problem;
import dev.distill.settings.SettingsReader;
import dev.distill.student.StudentSettings;
import dev.distill.teacher.TeacherSettings;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Every setting of a job, read and validated at once: each module's section, job-level keys
 * ({@code kd.output-dir}, {@code kd.spark}) and the checks that span sections (class counts of teacher and
 * student, the data's feature length against a loaded teacher's input). All problems, unknown keys
 * included, are thrown together as one {@link dev.distill.settings.SettingsException}.
 */
public record JobSettings(Config config, String outputDir, String sparkMaster, String appName,
                          Map<String, String> sparkConf, DatasetSettings dataset, int[] inputShape,
                          TeacherSettings teacher, StudentSettings student) {

    public static JobSettings from(JobConfig.Loaded loaded) {
        Config config = loaded.config();
        SettingsReader kd = SettingsReader.of(config, "kd");
        kd.problems().addAll(loaded.unknownKeys());
        String outputDir = kd.string("output-dir");
        SettingsReader spark = kd.section("spark");
        String master = spark.string("master");
        String appName = spark.string("app-name");
        Map<String, String> sparkConf = new LinkedHashMap<>();
        if (spark.has("conf")) {
            // Entry keys are HOCON paths: "spark.ui.enabled" (quoted, one key) comes back with its quotes, and
            // spark.ui.enabled (unquoted, nested objects) without; both mean the Spark property spark.ui.enabled.
            spark.config().getConfig("conf").entrySet().forEach(e ->
                    sparkConf.put(String.join(".", com.typesafe.config.ConfigUtil.splitPath(e.getKey())),
                            String.valueOf(e.getValue().unwrapped())));
        }
        DatasetSettings dataset = DatasetSettings.read(kd);
        int[] shape = inputShape(kd, dataset);
        TeacherSettings teacher = TeacherSettings.read(kd, shape, dataset.numClasses());
        StudentSettings student = StudentSettings.read(kd, shape, dataset.numClasses());
        checkOutputDir(kd, outputDir);
        if (!teacher.trainedHere() && "onnx".equals(teacher.format())) {
            checkOnnxTeacher(kd, teacher, shape, dataset.numClasses());
        } else if (!teacher.trainedHere()) {
            checkLoadedTeacher(kd, teacher.model(), shape, dataset.numClasses());
        }
        if (!student.initFrom().isEmpty()) {
            Path local = DatasetSettings.localPath(student.initFrom());
            if (local != null && !Files.isRegularFile(local)) {
                kd.problem("student.architecture.init-from", "no such file: " + student.initFrom()
                        + "; name a DL4J model zip such as an earlier run's student/model.zip or baseline/model.zip");
            }
        }
        kd.problems().sort(java.util.Comparator.comparing(Problem::key));
        kd.throwIfAny();
        return new JobSettings(config, outputDir, master, appName, Map.copyOf(sparkConf), dataset, shape, teacher, student);
    }

    /** The input shape known before reading the data: set explicitly, or from a local IDX header; else [0]. */
    private static int[] inputShape(SettingsReader kd, DatasetSettings d) {
        if (!d.inputShape().isEmpty()) {
            return d.inputShape().stream().mapToInt(Integer::intValue).toArray();
        }
        if ("idx".equals(d.format()) && !d.train().isBlank()) {
            Path local = DatasetSettings.localPath(d.train());
            if (local != null && Files.isRegularFile(local)) {
                try (InputStream raw = Files.newInputStream(local);
                     DataInputStream in = new DataInputStream(IdxFile.maybeGunzip(raw))) {
                    int[] dims = IdxFile.readHeader(in, d.train()).dims();
                    return dims.length == 3 ? new int[] {1, dims[1], dims[2]}
                            : java.util.Arrays.copyOfRange(dims, 1, dims.length);
                } catch (IOException e) {
                    kd.problem("dataset.train", e.getMessage());
                }
            }
        }
        return new int[] {0};
    }

    private static void checkOutputDir(SettingsReader kd, String dir) {
        if (dir.isBlank()) {
            if (kd.has("output-dir")) {
                kd.problem("output-dir", "must name a folder for the job's outputs");
            }
            return;
        }
        Path local = DatasetSettings.localPath(dir);
        if (local == null) {
            return;
        }
        try {
            Files.createDirectories(local);
            Path probe = Files.createTempFile(local, ".write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException | RuntimeException e) {
            kd.problem("output-dir", "cannot write to this folder (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "); choose a writable folder");
        }
    }

    /** Checks a local teacher zip's declared input and output sizes against the data before any Spark job. */
    /** Opens a local ONNX teacher once to check its declared input and output against the data set. */
    private static void checkOnnxTeacher(SettingsReader kd, TeacherSettings teacher, int[] shape, int numClasses) {
        String model = teacher.model();
        Path local = model.isBlank() ? null : DatasetSettings.localPath(model);
        if (local == null || shape.length == 0) {
            return;
        }
        if (!Files.isRegularFile(local)) {
            kd.problem("teacher.model", "no such file: " + model + "; set kd.teacher.model to an ONNX file");
            return;
        }
        int features = java.util.Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        try (var t = new dev.distill.teacher.OnnxTeacher(Files.readAllBytes(local), model, teacher.onnx(), features,
                numClasses, 1)) {
            // opened: its shapes fit
        } catch (IllegalArgumentException e) {
            String message = e.getMessage().startsWith(model + ": ") ? e.getMessage().substring(model.length() + 2)
                    : e.getMessage();
            kd.problem("teacher.model", message);
        } catch (java.io.IOException e) {
            kd.problem("teacher.model", "cannot read (" + e.getMessage() + ")");
        }
    }

    private static void checkLoadedTeacher(SettingsReader kd, String model, int[] shape, int numClasses) {
        if (model.isBlank()) {
            return;
        }
        Path local = DatasetSettings.localPath(model);
        if (local == null) {
            return;
        }
        if (!Files.isRegularFile(local)) {
            kd.problem("teacher.model", "no such file: " + model + "; set kd.teacher.model to a DL4J model zip");
            return;
        }
        try (ZipFile zip = new ZipFile(local.toFile())) {
            ZipEntry entry = zip.getEntry("configuration.json");
            if (entry == null) {
                kd.problem("teacher.model", "not a DL4J model zip (no configuration.json inside)");
                return;
            }
            String json = new String(zip.getInputStream(entry).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(json);
            List<org.deeplearning4j.nn.conf.NeuralNetConfiguration> layers = conf.getConfs();
            long nOut = ((FeedForwardLayer) layers.get(layers.size() - 1).getLayer()).getNOut();
            if (nOut != numClasses) {
                kd.problem("teacher.model", "the teacher has " + nOut + " output classes but kd.dataset.num-classes = "
                        + numClasses + " (the student's class count); they must match");
            }
            int length = 1;
            for (int d : shape) {
                length *= d;
            }
            if (layers.get(0).getLayer() instanceof FeedForwardLayer first && first.getNIn() > 0 && length > 0
                    && conf.getInputPreProcess(0) == null && first.getNIn() != length) {
                kd.problem("teacher.model", "the teacher takes " + first.getNIn() + " input features but the data has "
                        + length + " (input shape " + java.util.Arrays.toString(shape) + ")");
            }
        } catch (IOException | RuntimeException e) {
            kd.problem("teacher.model", "not a readable DL4J model zip (" + e.getMessage() + ")");
        }
    }

    /** The resolved {@code kd} section as JSON, for provenance. */
    public String resolvedJson() {
        return config.getConfig("kd").root().render(ConfigRenderOptions.concise().setFormatted(true));
    }
}
