package dev.distill.teacher.spark;

import dev.distill.student.spark.NetworkPool;
import dev.distill.teacher.Dl4jTeacher;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Teacher networks kept in each executor JVM: loaded from the model zip once per concurrently running
 * task (never once per partition), and reused by every later task of that JVM. Each task runs its network
 * with {@code spark.task.cpus} BLAS threads, so inference, row conversion and Parquet writing of concurrent
 * tasks never oversubscribe the cores (multi-threaded BLAS stalls badly when its threads are descheduled).
 */
final class ExecutorTeachers {
    private static final Map<String, ConcurrentLinkedQueue<Dl4jTeacher>> POOL = new ConcurrentHashMap<>();

    private ExecutorTeachers() {
    }

    static Dl4jTeacher borrow(Configuration conf, String modelPath, String sha256, int featureLength, int threads) {
        NetworkPool.limitThreads(threads);
        Dl4jTeacher t = queue(modelPath, sha256).poll();
        if (t != null) {
            return t;
        }
        Path p = new Path(modelPath);
        try (InputStream in = p.getFileSystem(conf).open(p)) {
            return new Dl4jTeacher(Dl4jTeacher.load(in, modelPath), featureLength);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read teacher model " + modelPath + ": " + e.getMessage(), e);
        }
    }

    static void giveBack(String modelPath, String sha256, Dl4jTeacher teacher) {
        queue(modelPath, sha256).add(teacher);
    }

    private static ConcurrentLinkedQueue<Dl4jTeacher> queue(String modelPath, String sha256) {
        return POOL.computeIfAbsent(sha256 + "@" + modelPath, k -> new ConcurrentLinkedQueue<>());
    }
}
