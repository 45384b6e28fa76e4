package dev.distill.job;

import dev.distill.datasets.spark.DatasetLoader;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** What every stage of one job run shares: settings, the Spark session, the output folder, the loaded data. */
final class JobContext {
    final JobSettings settings;
    final SparkSession spark;
    final Workspace workspace;
    final String jobFile;
    private DatasetLoader.Splits splits;

    private final java.util.Map<String, String> dataKeys = new java.util.HashMap<>();

    JobContext(JobSettings settings, SparkSession spark, String jobFile) {
        this.settings = settings;
        this.spark = spark;
        this.jobFile = jobFile;
        this.workspace = new Workspace(settings.outputDir(), spark.sparkContext().hadoopConfiguration());
    }

    JavaSparkContext sc() {
        return JavaSparkContext.fromSparkContext(spark.sparkContext());
    }

    /** The data set's splits, loaded once per run. */
    DatasetLoader.Splits data() {
        if (splits == null) {
            splits = DatasetLoader.load(spark, settings.dataset());
            splits = new DatasetLoader.Splits(splits.train().cache(), splits.test().cache(), splits.featureLength(),
                    splits.inputShape(), splits.normalisation());
        }
        return splits;
    }

    /**
     * {@link DatasetLoader#dataKey} of a split of this job's data set ({@code "train"} or {@code "test"}), read
     * once per run: a run's stages, their keys and the soft-label checks all ask for it, and on a remote file
     * system each answer lists the sources.
     */
    String dataKey(String split) {
        return dataKeys.computeIfAbsent(split, s -> DatasetLoader.dataKey(spark, settings.dataset(), s));
    }

    /** A DL4J network from a model zip at {@code path} (any Hadoop file system). */
    org.deeplearning4j.nn.multilayer.MultiLayerNetwork loadNetwork(String path) {
        try (InputStream in = workspace.open(path)) {
            return dev.distill.teacher.Dl4jTeacher.load(in, path);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    void describe(String stage, String what) {
        spark.sparkContext().setJobGroup(stage, what, false);
    }

    int workers(dev.distill.student.TrainingSettings t) {
        return t.workersOr(spark.sparkContext().defaultParallelism());
    }

    /** Versions of everything that can change the numbers, for provenance. */
    static Map<String, Object> versions() {
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
