package dev.distill.teacher.spark;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs every {@value #PROGRESS_SECONDS} s while a labelling job runs: rows labelled (of the total when it
 * is known), parts done, throughput and the time left at that rate; silent for shorter jobs. Rows of
 * finished tasks come from the accumulator; those of running tasks from the partial accumulator values
 * that executors send with their heartbeats ({@code spark.executor.heartbeatInterval}, 10 s by default).
 */
final class LabellingProgress extends org.apache.spark.scheduler.SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger(LabellingJob.class);

    static final long PROGRESS_SECONDS = 10;
    private final org.apache.spark.SparkContext sc;
    private final org.apache.spark.util.LongAccumulator rows;
    private final java.util.concurrent.ConcurrentHashMap<Long, Long> running = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.ScheduledExecutorService timer;
    private final long start = System.nanoTime();

    LabellingProgress(org.apache.spark.SparkContext sc, String target, int parts, long expectedRows,
                      org.apache.spark.util.LongAccumulator rows, org.apache.spark.util.LongAccumulator done) {
        this.sc = sc;
        this.rows = rows;
        sc.addSparkListener(this);
        timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "labelling progress");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> {
            double seconds = (System.nanoTime() - start) / 1e9;
            long n = rows.value() + running.values().stream().mapToLong(Long::longValue).sum();
            double rate = n / seconds;
            String of = expectedRows > 0 ? String.format(" of %,d (%.0f%%)", expectedRows, 100.0 * n / expectedRows) : "";
            String left = expectedRows > 0 && n > 0 ? String.format(", about %.0f s left", (expectedRows - n) / rate)
                    : done.value() > 0 ? String.format(", about %.0f s left", seconds * (parts - done.value()) / done.value())
                    : "";
            LOG.info(String.format("labelling %s: %,d rows%s, %d of %d parts done, %,.0f rows/s%s", target, n, of,
                    done.value(), parts, rate, left));
        }, PROGRESS_SECONDS, PROGRESS_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public void onExecutorMetricsUpdate(org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate update) {
        for (var task : scala.jdk.javaapi.CollectionConverters.asJava(update.accumUpdates())) {
            for (var info : scala.jdk.javaapi.CollectionConverters.asJava(task._4())) {
                if (info.id() == rows.id() && info.update().isDefined()) {
                    running.put((Long) task._1(), ((Number) info.update().get()).longValue());
                }
            }
        }
    }

    @Override
    public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
        running.remove(end.taskInfo().taskId());   // its rows are in the accumulator now
    }

    void stop() {
        timer.shutdownNow();
        sc.removeSparkListener(this);
    }
}
