package dev.distill.job;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.distill.settings.Problem;
import dev.distill.settings.SettingsException;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The job file, found the ways Spark users pass files: a local path (relative to the working directory); a
 * file shipped with {@code spark-submit --files} (named by its file name: spark-submit lists those files in
 * {@code spark.files}, and in cluster deploy mode the driver does not run in the submitting directory); or a
 * Hadoop URI ({@code hdfs://}, {@code s3a://}, {@code file://}, ...), read with the Hadoop settings Spark
 * passes ({@code spark.hadoop.*}).
 *
 * @param name  as given on the command line
 * @param local the local file, or null for a remote one
 * @param uri   the remote file's URI, or null for a local one
 */
public record JobFile(String name, Path local, String uri) {

    /** Finds {@code given}; a configuration error (naming where it looked) when it is not there. */
    public static JobFile locate(String given) {
        if (given.isBlank()) {
            throw error(given, "empty; pass a HOCON job file such as conf/fashion-mnist.conf");
        }
        if (hasScheme(given) && !given.startsWith("file:")) {
            return remote(given, given);
        }
        Path local = dev.distill.datasets.DatasetSettings.localPath(given);
        if (Files.isDirectory(local)) {
            throw error(given, "is a folder; pass a HOCON job file such as conf/fashion-mnist.conf");
        }
        if (Files.isRegularFile(local)) {
            return new JobFile(given, local, null);
        }
        List<String> shipped = shippedFiles();
        for (String uri : shipped) {
            String fileName = uri.substring(uri.lastIndexOf('/') + 1);
            if (local.getFileName() != null && fileName.equals(local.getFileName().toString())) {
                if (!hasScheme(uri) || uri.startsWith("file:")) {
                    Path p = dev.distill.datasets.DatasetSettings.localPath(uri);
                    if (Files.isRegularFile(p)) {
                        return new JobFile(given, p, null);
                    }
                } else {
                    return remote(given, uri);
                }
            }
        }
        throw error(given, "no such file (looked in " + Path.of("").toAbsolutePath()
                + (shipped.isEmpty() ? "" : " and among the files shipped with spark-submit --files: "
                + String.join(", ", shipped)) + "); pass a HOCON job file such as conf/fashion-mnist.conf: a local"
                + " path, a file shipped with spark-submit --files (by its file name), or a Hadoop URI such as"
                + " hdfs:///jobs/my.conf");
    }

    /** The files {@code spark-submit --files} ships, as it lists them in {@code spark.files}. */
    static List<String> shippedFiles() {
        List<String> out = new ArrayList<>();
        for (String f : System.getProperty("spark.files", "").split(",")) {
            if (!f.isBlank()) {
                out.add(f.trim());
            }
        }
        return out;
    }

    private static boolean hasScheme(String s) {
        return s.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*") && !s.matches("^[a-zA-Z]:[\\\\/].*");
    }

    private static JobFile remote(String given, String uri) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
            org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(hadoop());
            if (!fs.exists(p)) {
                throw error(given, "no such file: " + uri);
            }
            if (fs.getFileStatus(p).isDirectory()) {
                throw error(given, "is a folder: " + uri + "; pass a HOCON job file");
            }
            return new JobFile(given, null, uri);
        } catch (IOException | RuntimeException e) {
            if (e instanceof SettingsException s) {
                throw s;
            }
            throw error(given, "cannot read " + uri + " (" + Failures.oneLine(e) + ")");
        }
    }

    /** Hadoop settings as Spark passes them (spark.hadoop.* in the Spark properties). */
    private static org.apache.hadoop.conf.Configuration hadoop() {
        return org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(new org.apache.spark.SparkConf());
    }

    private static SettingsException error(String given, String message) {
        return new SettingsException(new Problem("job file", "", given, message));
    }

    /** Where the file was found, for messages and provenance. */
    public String location() {
        return local != null ? local.toString() : uri;
    }

    /** Parses the file as HOCON; problems are reported against its name (and line). */
    public Config parse() {
        if (local != null) {
            return ConfigFactory.parseFile(local.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        }
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
            try (InputStream in = p.getFileSystem(hadoop()).open(p);
                 Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                return ConfigFactory.parseReader(reader, ConfigParseOptions.defaults().setOriginDescription(uri));
            }
        } catch (IOException e) {
            throw error(name, "cannot read " + uri + " (" + e.getMessage() + ")");
        }
    }
}
