package dev.distill.teacher.spark;

import dev.distill.student.spark.NetworkPool;
import dev.distill.teacher.Teacher;
import dev.distill.teacher.TeacherSource;
import org.apache.hadoop.conf.Configuration;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Teachers kept in each executor JVM: opened once per concurrently running task (never once per
 * partition), and reused by every later task of that JVM. Each task runs its teacher with
 * {@code spark.task.cpus} threads (BLAS threads for DL4J, intra-op threads for ONNX Runtime), so inference,
 * row conversion and Parquet writing of concurrent tasks never oversubscribe the cores (multi-threaded BLAS
 * stalls badly when its threads are descheduled).
 */
final class ExecutorTeachers {
    private static final Map<String, ConcurrentLinkedQueue<Teacher>> POOL = new ConcurrentHashMap<>();

    private ExecutorTeachers() {
    }

    static Teacher borrow(Configuration conf, TeacherSource source, String sha256, int threads) {
        NetworkPool.limitThreads(threads);
        Teacher t = queue(source, sha256).poll();
        return t != null ? t : source.open(conf, threads);
    }

    static void giveBack(TeacherSource source, String sha256, Teacher teacher) {
        queue(source, sha256).add(teacher);
    }

    private static ConcurrentLinkedQueue<Teacher> queue(TeacherSource source, String sha256) {
        return POOL.computeIfAbsent(sha256 + "@" + source.key(), k -> new ConcurrentLinkedQueue<>());
    }
}
