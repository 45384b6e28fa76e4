package dev.distill.job;

import dev.distill.settings.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The command line's -Dkey=value and the ways a job file is found. */
class TestJobConfig {
    @TempDir
    Path dir;

    private Path job() throws Exception {
        return Files.writeString(dir.resolve("job.conf"), "kd.output-dir = \"" + dir.resolve("out") + "\"\n");
    }

    /** Values are taken literally: #, //, spaces and non-ASCII characters are part of a path, as the shell passed it. */
    @Test
    void overrideValuesAreLiteral() throws Exception {
        String odd = dir.resolve("run #2 // été 東京").toString();
        var c = JobConfig.load(job().toString(), Map.of("kd.output-dir", odd, "kd.student.training.epochs", "3",
                "kd.dataset.train-labels", "\"\"", "kd.student.architecture.layers", "[{type = dense, units = 16}]",
                "kd.spark.app-name", "a:b=c")).config();
        assertThat(c.getString("kd.output-dir")).isEqualTo(odd);
        assertThat(c.getInt("kd.student.training.epochs")).isEqualTo(3);
        assertThat(c.getString("kd.dataset.train-labels")).isEmpty();
        assertThat(c.getConfigList("kd.student.architecture.layers").get(0).getInt("units")).isEqualTo(16);
        assertThat(c.getString("kd.spark.app-name")).isEqualTo("a:b=c");
    }

    @Test
    void aKeyOutsideKdIsAProblemNotIgnored() throws Exception {
        var loaded = JobConfig.load(job().toString(), Map.of("spark.executor.memory", "4g"));
        assertThat(loaded.unknownKeys()).extracting(Object::toString).containsExactly("command line:"
                + " -Dspark.executor.memory: not a job setting: job settings start with kd. (Spark settings go in"
                + " kd.spark.conf, or to spark-submit as --conf key=value)");
    }

    /** A misspelled key set as a JVM system property (JAVA_OPTS) is reported like one on the command line. */
    @Test
    void aMisspelledJvmPropertyIsReported() throws Exception {
        System.setProperty("kd.dataset.num-clases", "4");
        com.typesafe.config.ConfigFactory.invalidateCaches();
        try {
            var loaded = JobConfig.load(job().toString(), Map.of());
            assertThat(loaded.unknownKeys()).extracting(Object::toString).containsExactly("system properties:"
                    + " kd.dataset.num-clases = \"4\": unknown key; did you mean kd.dataset.num-classes? Valid keys under"
                    + " kd.dataset: class-names, csv, format, image, image-folder, input-shape, label-column, labelled-fraction, max-test-rows, max-train-rows, normalisation,"
                    + " num-classes, parquet, partitions, split-seed, test, test-fraction, test-labels, train, train-labels");
        } finally {
            System.clearProperty("kd.dataset.num-clases");
            com.typesafe.config.ConfigFactory.invalidateCaches();
        }
    }

    @Test
    void aFolderOrAMissingFileIsNamed() {
        assertThatThrownBy(() -> JobConfig.load(dir.toString(), Map.of())).isInstanceOf(SettingsException.class)
                .hasMessage("job file = " + dir + ": is a folder; pass a HOCON job file such as conf/fashion-mnist.conf");
        assertThatThrownBy(() -> JobConfig.load("nope.conf", Map.of())).hasMessage("job file = nope.conf: no such file"
                + " (looked in " + Path.of("").toAbsolutePath() + "); pass a HOCON job file such as"
                + " conf/fashion-mnist.conf: a local path, a file shipped with spark-submit --files (by its file name),"
                + " or a Hadoop URI such as hdfs:///jobs/my.conf");
    }

    /** spark-submit --files conf/my.conf ... run my.conf: the file is found by its name in spark.files. */
    @Test
    void aFileShippedWithFilesIsFoundByItsName() throws Exception {
        Path shipped = job();
        String before = System.getProperty("spark.files");
        try {
            System.setProperty("spark.files", "file:" + dir.resolve("other.txt") + "," + shipped.toUri());
            var loaded = JobConfig.load("job.conf", Map.of());
            assertThat(loaded.jobFile().local()).isEqualTo(shipped);
            assertThat(loaded.config().getString("kd.output-dir")).isEqualTo(dir.resolve("out").toString());
        } finally {
            if (before == null) {
                System.clearProperty("spark.files");
            } else {
                System.setProperty("spark.files", before);
            }
        }
    }

    /** A job file named by a URI is read through Hadoop; its problems carry the URI and line. */
    @Test
    void aJobFileByUriReportsItsLines() throws Exception {
        Path f = Files.writeString(dir.resolve("remote.conf"), "kd {\n  output-dir = \"" + dir.resolve("o") + "\"\n"
                + "  student.training.epocs = 3\n}\n");
        var loaded = JobConfig.load(f.toUri().toString(), Map.of());
        assertThat(loaded.jobFile().local()).isEqualTo(f);
        assertThat(loaded.unknownKeys()).extracting(Object::toString).first().asString()
                .startsWith(f + ":3: kd.student.training.epocs = 3: unknown key");
        List<String> none = JobFile.shippedFiles();
        assertThat(none).isEmpty();
    }
}
