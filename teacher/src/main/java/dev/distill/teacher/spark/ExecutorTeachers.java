package dev.distill.teacher.spark;

import dev.distill.student.spark.NetworkPool;
import dev.distill.teacher.Dl4jTeacher;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One teacher network per executor JVM, loaded from the model zip on first use and shared by that JVM's
 * tasks (DL4J's {@code output} is synchronised). BLAS runs with as many threads as the executor has cores,
 * so inference uses the whole executor while other tasks convert rows and write Parquet.
 */
final class ExecutorTeachers {
    private static final Map<String, Dl4jTeacher> TEACHERS = new ConcurrentHashMap<>();

    private ExecutorTeachers() {
    }

    static Dl4jTeacher get(Configuration conf, String modelPath, String sha256, int featureLength) {
        return TEACHERS.computeIfAbsent(sha256 + "@" + modelPath, k -> {
            NetworkPool.limitThreads(executorCores());
            Path p = new Path(modelPath);
            try (InputStream in = p.getFileSystem(conf).open(p)) {
                return new Dl4jTeacher(Dl4jTeacher.load(in, modelPath), featureLength);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read teacher model " + modelPath + ": " + e.getMessage(), e);
            }
        });
    }

    /** Cores of this executor: N of local[N], else spark.executor.cores, else the machine's processors. */
    static int executorCores() {
        int machine = Runtime.getRuntime().availableProcessors();
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return machine;
        }
        SparkConf conf = env.conf();
        String master = conf.get("spark.master", "");
        if (master.startsWith("local")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("local\\[(\\d+|\\*)").matcher(master);
            if (m.find()) {
                return "*".equals(m.group(1)) ? machine : Math.max(1, Integer.parseInt(m.group(1)));
            }
            return 1;
        }
        return Math.max(1, Math.min(machine, conf.getInt("spark.executor.cores", machine)));
    }
}
