package dev.distill.datasets.spark;

import dev.distill.datasets.ExampleSchema;
import dev.distill.datasets.softlabels.SoftLabelMetadata;
import dev.distill.datasets.softlabels.TopK;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.encoders.ExpressionEncoder;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.List;

/**
 * Reads a soft-label folder joined by id with the data set split it was made from, as rows of
 * {@code id, features, label, teacher_logits}: the features from the split, the label and logits from the
 * soft labels. Full logits are read as stored; top-k soft labels get {@code teacher_logits} rebuilt by
 * {@link TopK#expand} (the k stored logits, the tail mass spread evenly over the other classes), so training
 * and evaluation read either form the same way. Soft labels with stored views add {@code view_boxes} and
 * {@code view_logits}.
 *
 * <p>The join is Spark's: soft labels of a few logits per row are small enough to be broadcast to the
 * split's partitions (no shuffle of the features); very large ones are joined by sorting on the id. The
 * caller checks {@link SoftLabelMetadata#dataKey()} against the split first, so every id finds its row.
 */
public final class SoftLabelReader {
    private static final StructType LOGITS = new StructType()
            .add(ExampleSchema.ID, DataTypes.LongType, false)
            .add(ExampleSchema.LABEL, DataTypes.IntegerType, true)
            .add("teacher_logits", DataTypes.createArrayType(DataTypes.FloatType, false), false);

    /** Columns of stored views (soft labels of {@code kd.soft-labels.views} > 1). */
    public static final String VIEW_BOXES = "view_boxes";
    public static final String VIEW_LOGITS = "view_logits";
    /** Columns of stored views as top-k ({@code kd.soft-labels.store = top-k}): V × k classes and logits, V logsumexp. */
    public static final String VIEW_TOPK_INDEX = "view_topk_index";
    public static final String VIEW_TOPK_LOGIT = "view_topk_logit";
    public static final String VIEW_LOGSUMEXP = "view_logsumexp";
    /** Every column of stored views, in either form (what a method that does not use them drops). */
    public static final String[] VIEW_COLUMNS = {VIEW_BOXES, VIEW_LOGITS, VIEW_TOPK_INDEX, VIEW_TOPK_LOGIT, VIEW_LOGSUMEXP};

    private SoftLabelReader() {
    }

    /** {@code id, features, label, teacher_logits} for every example of {@code examples} with a soft label. */
    public static Dataset<Row> read(SparkSession spark, String dir, SoftLabelMetadata md, Dataset<Row> examples) {
        return examples.select(ExampleSchema.ID, ExampleSchema.FEATURES).join(logits(spark, dir, md), ExampleSchema.ID);
    }

    /**
     * The soft labels alone: {@code id, label, teacher_logits}, with top-k ones expanded to full logits; with
     * stored views also their columns, as stored (top-k views stay compact: the trainer expands the one view
     * it picks, so a cached minibatch holds k logits per view, not C).
     */
    public static Dataset<Row> logits(SparkSession spark, String dir, SoftLabelMetadata md) {
        Dataset<Row> raw = spark.read().parquet(dir);
        if (md.hasViews() && md.topK() <= 0) {
            return raw.select(ExampleSchema.ID, ExampleSchema.LABEL, "teacher_logits", VIEW_BOXES, VIEW_LOGITS);
        }
        if (md.topK() <= 0) {
            return raw.select(ExampleSchema.ID, ExampleSchema.LABEL, "teacher_logits");
        }
        int classes = md.numClasses();
        String[] views = md.hasViews() ? new String[] {VIEW_BOXES, VIEW_TOPK_INDEX, VIEW_TOPK_LOGIT, VIEW_LOGSUMEXP}
                : new String[0];
        StructType schema = LOGITS;
        for (String v : views) {
            schema = schema.add(raw.schema().apply(v));
        }
        org.apache.spark.sql.Column[] columns = new org.apache.spark.sql.Column[5 + views.length];
        String[] names = {ExampleSchema.ID, ExampleSchema.LABEL, "topk_index", "topk_logit", "logsumexp"};
        for (int i = 0; i < columns.length; i++) {
            columns[i] = org.apache.spark.sql.functions.col(i < 5 ? names[i] : views[i - 5]);
        }
        return raw.select(columns).map((org.apache.spark.api.java.function.MapFunction<Row, Row>) r -> {
            List<Integer> idx = r.getList(2);
            List<Float> logit = r.getList(3);
            int[] index = new int[idx.size()];
            float[] values = new float[logit.size()];
            for (int i = 0; i < index.length; i++) {
                index[i] = idx.get(i);
                values[i] = logit.get(i);
            }
            Object[] out = new Object[3 + (r.length() - 5)];
            out[0] = r.getLong(0);
            out[1] = r.isNullAt(1) ? null : r.getInt(1);
            out[2] = TopK.expand(index, values, r.getFloat(4), classes);
            for (int i = 5; i < r.length(); i++) {
                out[i - 2] = r.get(i);
            }
            return RowFactory.create(out);
        }, ExpressionEncoder.apply(schema));
    }
}
