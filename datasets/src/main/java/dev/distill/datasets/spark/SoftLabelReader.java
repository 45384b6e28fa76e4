package dev.distill.datasets.spark;

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
 * Reads a soft-label folder as rows of {@code id, features, label, teacher_logits}: as stored for full logits;
 * for top-k soft labels with {@code teacher_logits} rebuilt by {@link TopK#expand} (the k stored logits, the
 * tail mass spread evenly over the other classes), so training and evaluation read either form the same way.
 */
public final class SoftLabelReader {
    private SoftLabelReader() {
    }

    public static Dataset<Row> read(SparkSession spark, String dir, SoftLabelMetadata md) {
        Dataset<Row> raw = spark.read().parquet(dir);
        if (md.topK() <= 0) {
            return raw;
        }
        int classes = md.numClasses();
        StructType schema = new StructType()
                .add("id", DataTypes.LongType, false)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("label", DataTypes.IntegerType, true)
                .add("teacher_logits", DataTypes.createArrayType(DataTypes.FloatType, false), false);
        return raw.select("id", "features", "label", "topk_index", "topk_logit", "logsumexp").map(
                (org.apache.spark.api.java.function.MapFunction<Row, Row>) r -> {
                    List<Integer> idx = r.getList(3);
                    List<Float> logit = r.getList(4);
                    int[] index = new int[idx.size()];
                    float[] values = new float[logit.size()];
                    for (int i = 0; i < index.length; i++) {
                        index[i] = idx.get(i);
                        values[i] = logit.get(i);
                    }
                    float[] full = TopK.expand(index, values, r.getFloat(5), classes);
                    return RowFactory.create(r.getLong(0), dev.distill.datasets.Rows.floats(r.getList(1)),
                            r.isNullAt(2) ? null : r.getInt(2), full);
                }, ExpressionEncoder.apply(schema));
    }
}
