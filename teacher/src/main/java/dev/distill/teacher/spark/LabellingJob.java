package dev.distill.teacher.spark;

import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.softlabels.SoftLabelRecord;
import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.teacher.Dl4jTeacher;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * Runs the teacher over a split inside the executors, in batches, and writes the soft-label folder:
 * each task writes its partition to a part file in a hidden temporary folder, and the driver commits
 * the folder (marker + rename) only when every task succeeded. Row order and ids follow the input, so a
 * rerun writes the same rows; a retried task overwrites its own part, so no row is written twice.
 */
public final class LabellingJob {
    private static final Logger LOG = LoggerFactory.getLogger(LabellingJob.class);

    /** Rows written and seconds taken. */
    public record Result(long rows, double seconds) {
    }

    private LabellingJob() {
    }

    public static Result label(Dataset<Row> rows, String modelPath, String teacherSha256, SoftLabelMetadata metadata,
                               int batchSize, String target) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
        SerializableConfiguration conf = new SerializableConfiguration(sc.hadoopConfiguration());
        String tmp = SoftLabelStore.createTemp(sc.hadoopConfiguration(), target);
        int featureLength = metadata.featureLength();
        long t0 = System.nanoTime();
        try {
            List<Long> counts = rows.javaRDD().mapPartitionsWithIndex((partition, it) -> {
                Dl4jTeacher teacher = ExecutorTeachers.get(conf.value(), modelPath, teacherSha256, featureLength);
                TaskContext ctx = TaskContext.get();
                long attempt = ctx == null ? 0 : ctx.taskAttemptId();
                long n = SoftLabelStore.writePart(conf.value(), tmp, partition, attempt, metadata,
                        new Labeller(it, teacher, batchSize, featureLength));
                return Collections.singletonList(n).iterator();
            }, true).collect();
            long total = counts.stream().mapToLong(Long::longValue).sum();
            double seconds = (System.nanoTime() - t0) / 1e9;
            String manifest = "{\"rows\": " + total + ", \"parts\": " + counts.size() + ", \"metadata\": "
                    + toJson(metadata) + "}\n";
            SoftLabelStore.commit(sc.hadoopConfiguration(), tmp, target, manifest);
            LOG.info(String.format("labelled %d rows into %s in %.1f s (%.0f rows/s)", total, target, seconds,
                    total / seconds));
            return new Result(total, seconds);
        } catch (RuntimeException e) {
            SoftLabelStore.abort(sc.hadoopConfiguration(), tmp);
            throw e;
        }
    }

    private static String toJson(SoftLabelMetadata md) {
        StringBuilder b = new StringBuilder("{");
        md.toFooter().forEach((k, v) -> b.append(b.length() > 1 ? ", " : "").append('"').append(k).append("\": \"")
                .append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append('"'));
        return b.append('}').toString();
    }

    /** Pulls rows in batches through the teacher and yields soft-label records in input order. */
    private static final class Labeller implements Iterator<SoftLabelRecord> {
        private final Iterator<Row> rows;
        private final Dl4jTeacher teacher;
        private final int batchSize;
        private final int featureLength;
        private final List<SoftLabelRecord> ready = new ArrayList<>();
        private int next;

        Labeller(Iterator<Row> rows, Dl4jTeacher teacher, int batchSize, int featureLength) {
            this.rows = rows;
            this.teacher = teacher;
            this.batchSize = batchSize;
            this.featureLength = featureLength;
        }

        @Override
        public boolean hasNext() {
            if (next < ready.size()) {
                return true;
            }
            ready.clear();
            next = 0;
            List<Row> batch = new ArrayList<>(batchSize);
            while (batch.size() < batchSize && rows.hasNext()) {
                batch.add(rows.next());
            }
            if (batch.isEmpty()) {
                return false;
            }
            int n = batch.size();
            float[] x = new float[n * featureLength];
            float[][] feats = new float[n][];
            for (int r = 0; r < n; r++) {
                List<Object> xs = batch.get(r).getList(1);
                if (xs.size() != featureLength) {
                    throw new IllegalArgumentException("row " + batch.get(r).getLong(0) + " has " + xs.size()
                            + " features; the teacher takes " + featureLength);
                }
                float[] f = new float[featureLength];
                for (int j = 0; j < featureLength; j++) {
                    f[j] = ((Number) xs.get(j)).floatValue();
                }
                feats[r] = f;
                System.arraycopy(f, 0, x, r * featureLength, featureLength);
            }
            float[] logits = teacher.logits(x, n);
            int c = teacher.numClasses();
            for (int r = 0; r < n; r++) {
                Row row = batch.get(r);
                float[] t = new float[c];
                System.arraycopy(logits, r * c, t, 0, c);
                ready.add(new SoftLabelRecord(row.getLong(0), feats[r], row.isNullAt(2) ? null : row.getInt(2), t));
            }
            return true;
        }

        @Override
        public SoftLabelRecord next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return ready.get(next++);
        }
    }
}
