package dev.distill.teacher.spark;

import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.augment.Augmentation;
import dev.distill.datasets.augment.View;
import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.softlabels.SoftLabelRecord;
import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.teacher.Teacher;
import dev.distill.teacher.TeacherSource;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * Runs the teacher over a split inside the executors, in batches of {@code kd.soft-labels.batch-size} rows,
 * and writes the soft-label folder (id, label and logits per row; the features stay in the split):
 * each task writes its partition to a part file in a hidden temporary folder, and the driver commits
 * the folder (marker + rename) only when every task succeeded. Row order and ids follow the input, so a
 * rerun writes the same rows; a retried task overwrites its own part, so no row is written twice.
 */
public final class LabellingJob {
    private static final Logger LOG = LoggerFactory.getLogger(LabellingJob.class);

    /** Rows written and seconds taken. */
    public record Result(long rows, double seconds) {
    }

    /**
     * The views labelled per example: {@code count} (1 = the image only), drawn from {@code augmentation} with
     * {@code seed} and the example's id for images of {@code shape} [C, H, W]; view 0 is the image itself.
     */
    public record Views(int count, Augmentation augmentation, int[] shape, long seed) implements java.io.Serializable {
        public static final Views NONE = new Views(1, Augmentation.NONE, new int[0], 0);

        /** View {@code v} of example {@code id}. */
        public View view(long id, int v) {
            return v == 0 ? View.identity(shape[1], shape[2])
                    : augmentation.sample(Augmentation.random(seed, id, v), shape[1], shape[2]);
        }
    }

    private LabellingJob() {
    }

    /**
     * Examples per teacher call: {@code kd.soft-labels.batch-size} counts what the teacher sees in one call,
     * so with V views a call takes {@code batchSize / V} examples (at least one). The memory of a call then
     * stays that of a plain batch however many views are labelled (100 views of 224² RGB images at 512 per
     * call would otherwise hold 31 GB).
     */
    static int imagesPerCall(int batchSize, int views) {
        return Math.max(1, batchSize / Math.max(1, views));
    }

    public static Result label(Dataset<Row> rows, TeacherSource source, String teacherSha256, SoftLabelMetadata metadata,
                               int batchSize, String compression, String target) {
        return label(rows, source, teacherSha256, metadata, batchSize, compression, target, 0);
    }

    /** As above; {@code expectedRows} (0 when unknown) is the total the progress lines count towards. */
    public static Result label(Dataset<Row> rows, TeacherSource source, String teacherSha256, SoftLabelMetadata metadata,
                               int batchSize, String compression, String target, long expectedRows) {
        return label(rows, source, teacherSha256, metadata, batchSize, compression, target, expectedRows, Views.NONE);
    }

    /** As above, labelling {@code views} of every row ({@code metadata} must say as many). */
    public static Result label(Dataset<Row> rows, TeacherSource source, String teacherSha256, SoftLabelMetadata metadata,
                               int batchSize, String compression, String target, long expectedRows, Views views) {
        if (views.count() != metadata.views()) {
            throw new IllegalArgumentException("labelling " + views.count() + " views into soft labels that declare "
                    + metadata.views());
        }
        CompressionCodecName codec = CompressionCodecName.fromConf(compression);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
        SerializableConfiguration conf = new SerializableConfiguration(sc.hadoopConfiguration());
        String tmp = SoftLabelStore.createTemp(sc.hadoopConfiguration(), target);
        int featureLength = metadata.featureLength();
        long t0 = System.nanoTime();
        LabellingProgress progress = null;
        try {
            // Catalyst's rows: features are copied out of Spark's own buffer, with no boxing per value. A split
            // already in the example schema is read as it is (a projection would copy every row once more).
            Dataset<Row> ordered = java.util.Arrays.equals(rows.schema().fieldNames(), ExampleSchema.SCHEMA.fieldNames())
                    ? rows : rows.select(ExampleSchema.ID, ExampleSchema.FEATURES, ExampleSchema.LABEL);
            JavaRDD<InternalRow> internal = ordered.queryExecution().toRdd().toJavaRDD();
            org.apache.spark.util.LongAccumulator labelled = sc.sc().longAccumulator("rows labelled");
            org.apache.spark.util.LongAccumulator partsDone = sc.sc().longAccumulator("parts labelled");
            progress = new LabellingProgress(sc.sc(), target, internal.getNumPartitions(), expectedRows, labelled, partsDone);
            LOG.info("labelling {}: {} parts{}, {}", target, internal.getNumPartitions(),
                    expectedRows > 0 ? String.format(", %,d rows", expectedRows) : "", source.isEnsemble()
                            ? "an ensemble of " + source.members().stream().map(TeacherSource::model)
                            .collect(java.util.stream.Collectors.joining(", "))
                            : "teacher " + source.model());
            List<Long> counts = internal.mapPartitionsWithIndex((partition, it) -> {
                TaskContext ctx = TaskContext.get();
                long attempt = ctx == null ? 0 : ctx.taskAttemptId();
                int threads = ctx == null ? 1 : ctx.cpus();
                Teacher teacher = ExecutorTeachers.borrow(conf.value(), source, teacherSha256, threads);
                try {
                    long start = System.nanoTime();
                    Labeller labeller = new Labeller(it, teacher, batchSize, featureLength, labelled, views);
                    long n = SoftLabelStore.writePart(conf.value(), tmp, partition, attempt, metadata, codec,
                            labeller);
                    if (LOG.isDebugEnabled()) {
                        LOG.debug(String.format("part %d: %d rows in %.3f s, of which teacher %.3f s, reading rows %.3f s"
                                + " (the rest is writing)", partition, n, (System.nanoTime() - start) / 1e9,
                                labeller.teacherNanos / 1e9, labeller.rowNanos / 1e9));
                    }
                    partsDone.add(1);
                    return Collections.singletonList(n).iterator();
                } finally {
                    ExecutorTeachers.giveBack(source, teacherSha256, teacher);
                }
            }, true).collect();
            progress.stop();
            long total = counts.stream().mapToLong(Long::longValue).sum();
            double seconds = (System.nanoTime() - t0) / 1e9;
            SoftLabelStore.commit(sc.hadoopConfiguration(), tmp, target, toJson(metadata));
            LOG.info(String.format("labelled %d rows into %s in %.1f s (%.0f rows/s)", total, target, seconds,
                    total / seconds));
            return new Result(total, seconds);
        } catch (Exception e) {
            if (progress != null) {
                progress.stop();
            }
            // Spark's SparkException is checked, and a failed job can leave tasks of other partitions running
            // for a moment: wait for them, then remove the temporary folder with whatever they wrote.
            awaitIdle(sc);
            SoftLabelStore.abort(sc.hadoopConfiguration(), tmp);
            throw e;
        }
    }

    /** Waits (up to 30 s) until no stage is running. */
    private static void awaitIdle(JavaSparkContext sc) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (sc.statusTracker().getActiveStageIds().length > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
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
        private final Iterator<InternalRow> rows;
        private final Teacher teacher;
        private final int batchSize;
        private final int featureLength;
        private final List<SoftLabelRecord> ready = new ArrayList<>();
        /** One batch of features, refilled for every full batch (the teachers copy it during the call). */
        private final float[] x;
        /** With views: every view of every row of the batch, row-major (row r's view v at r·V + v). */
        private final float[] xv;
        private final Views views;
        private final long[] ids;
        private final Integer[] labels;
        private int next;
        /** Time spent in the teacher and in copying rows out of Spark, for the debug log. */
        long teacherNanos;
        long rowNanos;

        /** Rows labelled, added batch by batch so that heartbeats carry a running task's progress. */
        private final org.apache.spark.util.LongAccumulator labelled;

        Labeller(Iterator<InternalRow> rows, Teacher teacher, int batchSize, int featureLength,
                 org.apache.spark.util.LongAccumulator labelled, Views views) {
            this.views = views;
            batchSize = imagesPerCall(batchSize, views.count());
            this.xv = views.count() > 1 ? new float[batchSize * views.count() * featureLength] : null;
            this.labelled = labelled;
            this.rows = rows;
            this.teacher = teacher;
            this.batchSize = batchSize;
            this.featureLength = featureLength;
            this.x = new float[batchSize * featureLength];
            this.ids = new long[batchSize];
            this.labels = new Integer[batchSize];
        }

        /**
         * Copies the features of {@code row} into {@link #x} at row {@code n}: straight out of Spark's
         * buffer for its own (unsafe) arrays, with no intermediate array per row.
         */
        private void copyFeatures(InternalRow row, int n) {
            org.apache.spark.sql.catalyst.util.ArrayData a = row.getArray(1);
            if (a.numElements() != featureLength) {
                throw new IllegalArgumentException("row " + row.getLong(0) + " has " + a.numElements()
                        + " features; the teacher takes " + featureLength);
            }
            if (a instanceof UnsafeArrayData u) {
                Platform.copyMemory(u.getBaseObject(), u.getBaseOffset()
                                + UnsafeArrayData.calculateHeaderPortionInBytes(featureLength), x,
                        Platform.FLOAT_ARRAY_OFFSET + 4L * n * featureLength, 4L * featureLength);
            } else {
                System.arraycopy(a.toFloatArray(), 0, x, n * featureLength, featureLength);
            }
        }

        @Override
        public boolean hasNext() {
            if (next < ready.size()) {
                return true;
            }
            ready.clear();
            next = 0;
            int n = 0;
            long t0 = System.nanoTime();
            while (n < batchSize && rows.hasNext()) {
                InternalRow row = rows.next();
                copyFeatures(row, n);
                ids[n] = row.getLong(0);
                labels[n] = row.isNullAt(2) ? null : row.getInt(2);
                n++;
            }
            if (n == 0) {
                return false;
            }
            long t1 = System.nanoTime();
            rowNanos += t1 - t0;
            int c = teacher.numClasses();
            if (xv != null) {
                labelViews(n, c, t1);
                return true;
            }
            float[] logits = teacher.logits(n == batchSize ? x : java.util.Arrays.copyOf(x, n * featureLength), n);
            teacherNanos += System.nanoTime() - t1;
            labelled.add(n);
            for (int r = 0; r < n; r++) {
                float[] t = new float[c];
                System.arraycopy(logits, r * c, t, 0, c);
                ready.add(new SoftLabelRecord(ids[r], labels[r], t));
            }
            return true;
        }

        /** Renders the V views of the batch's n rows, runs the teacher on all of them, and makes the records. */
        private void labelViews(int n, int c, long t1) {
            int v = views.count();
            int[] shape = views.shape();
            int[][] boxes = new int[n][v * View.NUMBERS];
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < v; k++) {
                    View view = views.view(ids[r], k);
                    view.encode(boxes[r], k * View.NUMBERS);
                    view.render(x, r * featureLength, shape[0], shape[1], shape[2], xv, (r * v + k) * featureLength);
                }
            }
            int total = n * v;
            float[] logits = teacher.logits(total == xv.length / featureLength ? xv
                    : java.util.Arrays.copyOf(xv, total * featureLength), total);
            teacherNanos += System.nanoTime() - t1;
            labelled.add(n);
            for (int r = 0; r < n; r++) {
                float[] all = java.util.Arrays.copyOfRange(logits, r * v * c, (r + 1) * v * c);
                ready.add(new SoftLabelRecord(ids[r], labels[r], java.util.Arrays.copyOf(all, c), boxes[r], all));
            }
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
