package dev.distill.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.IdxFile;
import dev.distill.datasets.augment.Augmentation;
import dev.distill.job.report.StageTable.Timing;
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
 * ({@code kd.output-dir}, {@code kd.spark}, {@code kd.compare}, {@code kd.report}) and the checks that span
 * sections (class counts of teacher and student, the data's feature length against a loaded teacher's
 * input). All problems, unknown keys included, are thrown together as one
 * {@link dev.distill.settings.SettingsException}.
 */
public record JobSettings(Config config, String outputDir, String sparkMaster, String appName,
                          Map<String, String> sparkConf, DatasetSettings dataset, int[] inputShape,
                          TeacherSettings teacher, StudentSettings student, Augmentation augmentation,
                          CompareSettings compare, Timing reportTiming) {

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
            spark.section("conf").config().entrySet().forEach(e ->
                    sparkConf.put(String.join(".", com.typesafe.config.ConfigUtil.splitPath(e.getKey())),
                            String.valueOf(e.getValue().unwrapped())));
        }
        DatasetSettings dataset = DatasetSettings.read(kd);
        int[] shape = inputShape(kd, dataset);
        TeacherSettings teacher = TeacherSettings.read(kd, shape, dataset.numClasses());
        StudentSettings student = StudentSettings.read(kd, shape, dataset.numClasses());
        Augmentation augmentation = Augmentation.read(kd.section("augment"));
        checkAugmentation(kd, augmentation, shape, Map.of("teacher.training.augment", teacher.trainedHere()
                && teacher.training().augment(), "student.training.augment", student.training().augment(),
                "soft-labels.views", teacher.views() > 1));
        CompareSettings compare = CompareSettings.read(kd, student, augmentation);
        Timing reportTiming = new Timing(kd.numberIn("report.speed-seconds", 0.01, 600));
        checkOutputDir(kd, outputDir);
        checkMaster(spark, master);
        String effectiveMaster = System.getProperty("spark.master", master);
        if (!effectiveMaster.startsWith("local")) {
            checkSharedPaths(kd, effectiveMaster, outputDir, dataset, teacher, student);
        }
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
        return new JobSettings(config, outputDir, master, appName, Map.copyOf(sparkConf), dataset, shape, teacher, student,
                augmentation, compare, reportTiming);
    }

    /** A training that asks for augmentation needs views to draw and image inputs to draw them on. */
    static void checkAugmentation(SettingsReader kd, Augmentation augmentation, int[] shape, Map<String, Boolean> uses) {
        uses.forEach((key, on) -> {
            if (!on) {
                return;
            }
            String is = key.endsWith("views") ? "is above 1" : "is true";
            if (!augmentation.enabled()) {
                kd.problem(key, is + " but kd.augment draws no views: set kd.augment.shift, kd.augment.flip or"
                        + " kd.augment.crop.scale (e.g. shift = 2, flip = 0.5)");
            } else if (shape.length != 3 && !(shape.length == 1 && shape[0] == 0)) {
                kd.problem(key, "needs image inputs of shape [channels, height, width], but the input shape is "
                        + java.util.Arrays.toString(shape) + "; set kd.dataset.input-shape (e.g. [1, 28, 28])");
            }
        });
    }

    /**
     * The input shape known before reading the data: from a local source (an IDX header, a CSV's first line, a
     * Parquet schema), checked against {@code input-shape} when that is set too; [0] when the source is remote.
     */
    private static int[] inputShape(SettingsReader kd, DatasetSettings d) {
        int[] given = d.inputShape().stream().mapToInt(Integer::intValue).toArray();
        int[] local = localShape(kd, d);
        int features = local == null ? 0 : java.util.Arrays.stream(local).reduce(1, (a, b) -> a * b);
        if (given.length > 0) {
            int product = java.util.Arrays.stream(given).reduce(1, (a, b) -> a * b);
            if (features > 0 && product != features) {
                kd.section("dataset").problem("input-shape", "holds " + product + " values but each row of "
                        + d.train() + " has " + features + " features; the product of the shape must be the feature"
                        + " count (e.g. [" + features + "]" + (features == 784 ? " or [1, 28, 28]" : "") + ")");
            }
            return given;
        }
        return features > 0 ? local : new int[] {0};
    }

    /**
     * The shape of a row of a local training source: [1, rows, cols] for IDX images, [features] for a table;
     * null when the source is remote, missing or unreadable (then reported as a problem).
     */
    private static int[] localShape(SettingsReader kd, DatasetSettings d) {
        if (d.train().isBlank()) {
            return null;
        }
        Path local;
        try {
            local = DatasetSettings.localPath(d.train());
        } catch (RuntimeException e) {
            return null;
        }
        boolean glob = DatasetSettings.isGlob(d.train()) && !"idx".equals(d.format());
        if (local == null || (!Files.exists(local) && !(glob && DatasetSettings.globMatches(local)))) {
            return null;   // remote, or missing (reported by the dataset settings)
        }
        SettingsReader ds = kd.section("dataset");
        try {
            switch (d.format()) {
                case "idx" -> {
                    if (!Files.isRegularFile(local)) {
                        return null;
                    }
                    try (InputStream raw = Files.newInputStream(local);
                         DataInputStream in = new DataInputStream(IdxFile.maybeGunzip(raw))) {
                        int[] dims = IdxFile.readHeader(in, d.train()).dims();
                        return dims.length == 3 ? new int[] {1, dims[1], dims[2]}
                                : java.util.Arrays.copyOfRange(dims, 1, dims.length);
                    }
                }
                case "csv" -> {
                    if (d.csvDelimiter().length() != 1) {
                        return null;   // reported by the dataset settings
                    }
                    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
                    int[] shape = {dev.distill.datasets.spark.CsvSource.inspect(conf, d.train(), d).features()};
                    Path test = d.hasTestSource() ? DatasetSettings.localPath(d.test()) : null;
                    if (test != null && (Files.exists(test) || DatasetSettings.isGlob(d.test()))) {
                        try {
                            dev.distill.datasets.spark.CsvSource.checkSameColumns(conf, d);
                        } catch (RuntimeException e) {
                            ds.problem("test", e.getMessage());
                        }
                    }
                    return shape;
                }
                case "parquet" -> {
                    if (d.images()) {   // its shape is input-shape; the columns and class names are checked now
                        org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
                        dev.distill.datasets.spark.TableSource.checkImageColumns(conf, d.train(), d);
                        return null;
                    }
                    return new int[] {dev.distill.datasets.spark.TableSource.parquetFeatures(
                            new org.apache.hadoop.conf.Configuration(), d.train(), d)};
                }
                default -> {
                    return null;
                }
            }
        } catch (IOException | RuntimeException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            ds.problem(message.contains("(kd.dataset.label-column)") ? "label-column" : "train", message);
            return null;
        }
    }

    /**
     * The output folder must be writable; it is not created here (a configuration error creates nothing): an
     * existing folder must be a writable folder, else its nearest existing parent must be.
     */
    private static void checkOutputDir(SettingsReader kd, String dir) {
        if (dir.isBlank()) {
            if (kd.has("output-dir")) {
                kd.problem("output-dir", "must name a folder for the job's outputs");
            }
            return;
        }
        Path local;
        try {
            local = DatasetSettings.localPath(dir);
        } catch (RuntimeException e) {
            kd.problem("output-dir", "not a valid path (" + e.getMessage() + ")");
            return;
        }
        if (local == null) {
            return;
        }
        Path p = local.toAbsolutePath();
        if (Files.exists(p) && !Files.isDirectory(p)) {
            kd.problem("output-dir", "is a file, not a folder; choose a folder for the job's outputs");
            return;
        }
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing)) {
            kd.problem("output-dir", "cannot be created: " + existing + " is not a folder; choose a writable folder");
        } else if (!Files.isWritable(existing)) {
            kd.problem("output-dir", "cannot write to " + existing + " (permission denied); choose a writable folder");
        }
    }

    /** Masters Spark 4 accepts: local, local[N], local[*], local[N,F], local-cluster[..], spark://, yarn, k8s://. */
    private static final java.util.regex.Pattern MASTER = java.util.regex.Pattern.compile(
            "local|local\\[(\\*|[1-9]\\d*)(,[1-9]\\d*)?]|local-cluster\\[\\d+, *\\d+, *\\d+]"
                    + "|spark://[^\\s/,:]+(:\\d+)?(,[^\\s/,:]+(:\\d+)?)*|yarn|k8s://\\S+");

    private static void checkMaster(SettingsReader spark, String master) {
        if (spark.has("master") && !MASTER.matcher(master).matches()) {
            spark.problem("master", "not a Spark master: use local[*] (every core of this machine), local[N],"
                    + " spark://host:7077, yarn or k8s://https://host:port");
        }
    }

    /**
     * On a cluster every path is read where the work runs: a relative path would be resolved in each
     * executor's own work folder (and, in cluster deploy mode, the driver's), so it names nothing useful.
     */
    private static void checkSharedPaths(SettingsReader kd, String master, String outputDir, DatasetSettings d,
                                         TeacherSettings t, StudentSettings s) {
        Map<String, String> paths = new LinkedHashMap<>();
        paths.put("output-dir", outputDir);
        paths.put("dataset.train", d.train());
        paths.put("dataset.train-labels", d.trainLabels());
        paths.put("dataset.test", d.test());
        paths.put("dataset.test-labels", d.testLabels());
        if (!t.trainedHere()) {
            paths.put("teacher.model", t.model());
        }
        paths.put("student.architecture.init-from", s.initFrom());
        paths.forEach((key, path) -> {
            if (path != null && !path.isBlank() && !path.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")
                    && !Path.of(path).isAbsolute()) {
                kd.problem(key, "a relative path on a cluster (master " + master + ") would be read in each"
                        + " executor's own work folder; give an absolute path on a file system every node shares,"
                        + " or a URI such as hdfs:///data/" + Path.of(path).getFileName());
            }
        });
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
