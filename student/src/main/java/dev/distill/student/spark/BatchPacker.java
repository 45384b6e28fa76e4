package dev.distill.student.spark;

import dev.distill.datasets.Rows;
import dev.distill.datasets.augment.View;
import dev.distill.datasets.spark.SoftLabelReader;
import dev.distill.student.loss.PackedTargets;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Turns rows ({@code id, features, label} and optionally {@code teacher_logits}) into {@code workers}
 * partitions of nearly equal size (each example goes to the worker a seeded hash of its id names), sorted by
 * id and shuffled with a seed, packed into {@link PackedBatch}es once and cached as plain Java arrays. The
 * batches depend only on the rows, the seed and the worker count: not on how the rows were partitioned or in
 * which order shuffle blocks arrived, so two identical runs (or a run that lost an executor) train the same
 * model. Without teacher logits the labels carry only the hard label (α must then be 0). Rows with stored
 * views ({@code view_boxes} and {@code view_logits}, or the top-k form {@code view_topk_index},
 * {@code view_topk_logit}, {@code view_logsumexp}) keep all their views in the batch, so picking a view each
 * epoch moves no data.
 */
public final class BatchPacker {
    private BatchPacker() {
    }

    public static JavaRDD<PackedBatch> pack(Dataset<Row> rows, int numClasses, int featureLength, int workers,
                                            int batchSize, long seed, boolean withTeacher) {
        String[] names = rows.schema().fieldNames();
        int fi = java.util.Arrays.asList(names).indexOf("features");
        int li = java.util.Arrays.asList(names).indexOf("label");
        int ti = withTeacher ? java.util.Arrays.asList(names).indexOf("teacher_logits") : -1;
        if (fi < 0 || (withTeacher && ti < 0)) {
            throw new IllegalArgumentException("training rows need columns features" + (withTeacher ? ", teacher_logits" : "")
                    + "; found " + java.util.Arrays.toString(names));
        }
        int width = PackedTargets.width(numClasses);
        int ii = java.util.Arrays.asList(names).indexOf("id");
        List<String> columns = java.util.Arrays.asList(names);
        int bi = withTeacher ? columns.indexOf(SoftLabelReader.VIEW_BOXES) : -1;
        int vi = withTeacher ? columns.indexOf(SoftLabelReader.VIEW_LOGITS) : -1;
        // Views stored as top-k: each view's k classes and logits and its logsumexp, kept compact.
        int ki = withTeacher ? columns.indexOf(SoftLabelReader.VIEW_TOPK_INDEX) : -1;
        int kl = withTeacher ? columns.indexOf(SoftLabelReader.VIEW_TOPK_LOGIT) : -1;
        int ks = withTeacher ? columns.indexOf(SoftLabelReader.VIEW_LOGSUMEXP) : -1;
        boolean topViews = ki >= 0 && kl >= 0 && ks >= 0;
        if (bi >= 0 && (vi >= 0) == topViews) {
            throw new IllegalArgumentException("training rows with stored views need " + SoftLabelReader.VIEW_BOXES
                    + " with either " + SoftLabelReader.VIEW_LOGITS + " or " + SoftLabelReader.VIEW_TOPK_INDEX + ", "
                    + SoftLabelReader.VIEW_TOPK_LOGIT + " and " + SoftLabelReader.VIEW_LOGSUMEXP + "; found "
                    + java.util.Arrays.toString(names));
        }
        if (bi < 0 && (vi >= 0 || ki >= 0)) {
            throw new IllegalArgumentException("training rows with stored views need " + SoftLabelReader.VIEW_BOXES
                    + "; found " + java.util.Arrays.toString(names));
        }
        if (ii < 0) {
            throw new IllegalArgumentException("training rows need an id column; found " + java.util.Arrays.toString(names));
        }
        JavaRDD<PackedBatch> batches = rows.javaRDD()
                .mapToPair(r -> new Tuple2<>(worker(r.getLong(ii), seed, workers), r))
                .partitionBy(new HashPartitioner(workers))
                .mapPartitionsWithIndex((partition, it) -> {
                    List<Row> all = new ArrayList<>();
                    it.forEachRemaining(t -> all.add(t._2()));
                    // Rows arrive in the order their shuffle blocks do, which differs from run to run and when a
                    // lost task is recomputed: sort by id, then shuffle with the seed.
                    all.sort(java.util.Comparator.comparingLong(r -> r.getLong(ii)));
                    Collections.shuffle(all, new Random(seed * 1_000_003L + partition));
                    List<PackedBatch> out = new ArrayList<>();
                    for (int start = 0; start < all.size(); start += batchSize) {
                        int n = Math.min(batchSize, all.size() - start);
                        float[] x = new float[n * featureLength];
                        float[] y = new float[n * width];
                        long[] ids = new long[n];
                        int views = bi < 0 ? 0 : all.get(start).getList(bi).size() / View.NUMBERS;
                        int k = topViews ? all.get(start).getList(ki).size() / Math.max(1, views) : 0;
                        int perView = topViews ? k : numClasses;
                        int[] boxes = bi < 0 ? null : new int[n * views * View.NUMBERS];
                        float[] viewLogits = bi < 0 ? null : new float[n * views * perView];
                        int[] topIndex = topViews ? new int[n * views * k] : null;
                        float[] logSumExp = topViews ? new float[n * views] : null;
                        for (int r = 0; r < n; r++) {
                            Row row = all.get(start + r);
                            ids[r] = row.getLong(ii);
                            float[] f = Rows.floats(row.getList(fi));
                            if (f.length != featureLength) {
                                throw new IllegalArgumentException("row " + row.getLong(0) + " has " + f.length
                                        + " features but the model's input takes " + featureLength);
                            }
                            System.arraycopy(f, 0, x, r * featureLength, featureLength);
                            Integer label = li < 0 || row.isNullAt(li) ? null : row.getInt(li);
                            if (label != null && (label < 0 || label >= numClasses)) {
                                throw new IllegalArgumentException("row " + row.getLong(0) + " has label " + label
                                        + "; labels must be in [0, " + numClasses + ")");
                            }
                            float[] t = ti < 0 ? null : Rows.floats(row.getList(ti));
                            if (t != null && t.length != numClasses) {
                                throw new IllegalArgumentException("row " + row.getLong(0) + " has " + t.length
                                        + " teacher logits; the student has " + numClasses + " classes");
                            }
                            PackedTargets.pack(t, label, numClasses, y, r * width);
                            if (bi >= 0) {
                                List<Object> b = row.getList(bi);
                                float[] v = Rows.floats(row.getList(topViews ? kl : vi));
                                if (b.size() != views * View.NUMBERS || v.length != views * perView) {
                                    throw new IllegalArgumentException("row " + ids[r] + " has " + b.size() + " view"
                                            + " numbers and " + v.length + " view logits; expected " + views + " views of "
                                            + View.NUMBERS + " numbers and " + perView + " logits");
                                }
                                for (int i = 0; i < b.size(); i++) {
                                    boxes[(r * views) * View.NUMBERS + i] = ((Number) b.get(i)).intValue();
                                }
                                System.arraycopy(v, 0, viewLogits, r * views * perView, v.length);
                                if (topViews) {
                                    List<Object> classes = row.getList(ki);
                                    float[] lse = Rows.floats(row.getList(ks));
                                    if (classes.size() != views * k || lse.length != views) {
                                        throw new IllegalArgumentException("row " + ids[r] + " has " + classes.size()
                                                + " top-k view classes and " + lse.length + " logsumexps; expected "
                                                + views + " views of " + k);
                                    }
                                    for (int i = 0; i < classes.size(); i++) {
                                        int c = ((Number) classes.get(i)).intValue();
                                        if (c < 0 || c >= numClasses) {
                                            throw new IllegalArgumentException("row " + ids[r] + " has a stored view"
                                                    + " of class " + c + "; classes are in [0, " + numClasses + ")");
                                        }
                                        topIndex[r * views * k + i] = c;
                                    }
                                    System.arraycopy(lse, 0, logSumExp, r * views, views);
                                }
                            }
                        }
                        out.add(new PackedBatch(n, x, y, ids, views, boxes, viewLogits, k, topIndex, logSumExp));
                    }
                    return out.iterator();
                }, true);
        return batches.persist(StorageLevel.MEMORY_AND_DISK());
    }

    /**
     * The worker an example goes to: a seeded hash of its id, so the assignment depends on nothing but the id,
     * the seed and the worker count (not on row order or partitioning), and workers get nearly equal shares.
     */
    static int worker(long id, long seed, int workers) {
        long h = id * 0x9E3779B97F4A7C15L + seed;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return (int) Math.floorMod(h, (long) workers);
    }
}
