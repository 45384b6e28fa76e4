package dev.distill.job;

import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.teacher.Dl4jTeacher;
import dev.distill.teacher.TeacherSettings;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * What every stage of one run shares: the settings, the Spark session, the output folder, the job file, and
 * what is read once per run (the data set's splits and their data keys).
 */
public final class JobContext {
    private static final Logger LOG = LoggerFactory.getLogger(JobContext.class);
    private final JobSettings settings;
    private final SparkSession spark;
    private final Workspace workspace;
    private final String jobFile;
    private DatasetLoader.Splits splits;
    /** The image folders' listings, made once per run. */
    private final dev.distill.datasets.spark.ImageSource.Listings listings = new dev.distill.datasets.spark.ImageSource.Listings();
    private final Map<String, String> dataKeys = new HashMap<>();
    private final Map<String, Object> once = new HashMap<>();

    public JobContext(JobSettings settings, SparkSession spark, String jobFile) {
        this.settings = settings;
        this.spark = spark;
        this.jobFile = jobFile;
        this.workspace = new Workspace(settings.outputDir(), spark.sparkContext().hadoopConfiguration());
    }

    public JobSettings settings() {
        return settings;
    }

    public SparkSession spark() {
        return spark;
    }

    public Workspace workspace() {
        return workspace;
    }

    /** The job file as given on the command line. */
    public String jobFile() {
        return jobFile;
    }

    public JavaSparkContext sc() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    /** The data set's splits, loaded (and cached by Spark) once per run. */
    public DatasetLoader.Splits data() {
        if (splits == null) {
            splits = DatasetLoader.load(spark, settings.dataset(), listings).cache();
            if (splits.images() != null) {
                // Decode every image now, once: the count says how many were read, skipped and how fast.
                long train = splits.train().count();
                long test = splits.test().count();
                LOG.info("dataset: {} training and {} test images; {}", train, test, splits.images().describe());
            }
        }
        return splits;
    }

    /**
     * The names of the classes in label order (kd.dataset.class-names, an image folder's class folders or a
     * Hugging Face file's metadata), empty when unknown; read once per run.
     */
    public List<String> classNames() {
        return once("class-names", () -> DatasetLoader.classNames(spark, settings.dataset()));
    }

    /**
     * {@link DatasetLoader#dataKey} of a split of this job's data set ({@code "train"} or {@code "test"}), read
     * once per run: a run's stages, their keys and the soft-label checks all ask for it, and on a remote file
     * system each answer lists the sources.
     */
    public String dataKey(String split) {
        return dataKeys.computeIfAbsent(split, s -> DatasetLoader.dataKey(spark, settings.dataset(), s, listings));
    }

    /**
     * A value computed once per run under {@code key} (one stage's result that a later stage of the same run
     * reuses, such as the test rows collected on the driver).
     */
    @SuppressWarnings("unchecked")
    public <T> T once(String key, java.util.function.Supplier<T> compute) {
        Object v = once.get(key);
        if (v == null) {
            v = compute.get();
            once.put(key, v);
        }
        return (T) v;
    }

    /** The value {@link #once} holds under {@code key}, or null. */
    @SuppressWarnings("unchecked")
    public <T> T remembered(String key) {
        return (T) once.get(key);
    }

    /** Keeps {@code value} under {@code key} for the rest of the run. */
    public void remember(String key, Object value) {
        once.put(key, value);
    }

    /** A DL4J network from a model zip at {@code path} (any Hadoop file system). */
    public MultiLayerNetwork loadNetwork(String path) {
        try (InputStream in = workspace.open(path)) {
            return Dl4jTeacher.load(in, path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** The teacher's model file: trained here ({@code teacher/model.zip}), or {@code kd.teacher.model}. */
    public String teacherModel() {
        TeacherSettings t = settings.teacher();
        String path = t.trainedHere() ? workspace.model("teacher") : t.model();
        if (!workspace.exists(path)) {
            throw new IllegalArgumentException("teacher model not found: " + path
                    + (t.trainedHere() ? "; run `distill train-teacher <job.conf>` first" : "; check kd.teacher.model"));
        }
        return path;
    }

    /** Every model the soft labels come from: {@link #teacherModel()}, then kd.teacher.ensemble's in order. */
    public java.util.List<String> teacherModels() {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(teacherModel()));
        java.util.List<TeacherSettings.Member> others = settings.teacher().ensemble();
        for (int i = 0; i < others.size(); i++) {
            String path = others.get(i).model();
            if (!workspace.exists(path)) {
                throw new IllegalArgumentException("teacher model not found: " + path + "; check kd.teacher.ensemble["
                        + i + "].model");
            }
            all.add(path);
        }
        return all;
    }

    /**
     * The teacher's identity in soft labels, stage keys and comparisons: its model file's SHA-256, or for an
     * ensemble the SHA-256 of its members' in order (so reordering or swapping one relabels).
     */
    public String teacherSha256() {
        java.util.List<String> models = teacherModels();
        return models.size() == 1 ? workspace.sha256(models.get(0))
                : dev.distill.datasets.Sha256.of("ensemble " + ensembleMembers(models));
    }

    /** For an ensemble, each member's file name and SHA-256 ({@code "a.zip sha256:…; b.onnx sha256:…"}), else "". */
    public String ensembleMembers() {
        return ensembleMembers(teacherModels());
    }

    private String ensembleMembers(java.util.List<String> models) {
        if (models.size() == 1) {
            return "";
        }
        return models.stream().map(m -> new org.apache.hadoop.fs.Path(m).getName() + " sha256:" + workspace.sha256(m))
                .collect(java.util.stream.Collectors.joining("; "));
    }

    /** The teacher's name in soft labels and reports: its file name, or "ensemble of a.zip, b.onnx". */
    public String teacherId() {
        java.util.List<String> names = teacherModels().stream().map(m -> new org.apache.hadoop.fs.Path(m).getName())
                .toList();
        return names.size() == 1 ? names.get(0) : "ensemble of " + String.join(", ", names);
    }

    /** How to open the teacher (an ensemble with kd.teacher.ensemble) for this job's data set. */
    public dev.distill.teacher.TeacherSource teacherSource() {
        return settings.teacher().source(teacherModel(), data().featureLength(), settings.dataset().numClasses());
    }

    /** Names the Spark jobs that follow in the UI and event log: their stage (job group) and what they do. */
    public void describe(String stage, String what) {
        spark.sparkContext().setJobGroup(stage, what, false);
    }

    /** Workers of a training: as set, or the cluster's default parallelism. */
    public int workers(dev.distill.student.TrainingSettings t) {
        return t.workersOr(spark.sparkContext().defaultParallelism());
    }

    /** Versions of everything that can change the numbers, for provenance. */
    public static Map<String, Object> versions() {
        Map<String, Object> v = new LinkedHashMap<>();
        Properties p = new Properties();
        try (InputStream in = JobContext.class.getResourceAsStream("versions.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException ignored) {
            // versions are informational
        }
        v.put("distill", p.getProperty("distill", "unknown"));
        v.put("deeplearning4j", p.getProperty("dl4j", "unknown"));
        v.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
        v.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
        v.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        return v;
    }
}
