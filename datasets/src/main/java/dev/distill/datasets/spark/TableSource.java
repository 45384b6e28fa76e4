package dev.distill.datasets.spark;

import dev.distill.datasets.Rows;
import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.ExampleSchema;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CSV and Parquet sources: a table whose features are either one array column or several numeric columns,
 * plus an optional label column. Ids are the row's position in the source (Spark's {@code zipWithIndex}
 * over the files in name order), which is stable across reruns on the same files.
 */
public final class TableSource {
    private TableSource() {
    }

    public static Dataset<Row> readCsv(SparkSession spark, String path, DatasetSettings s) {
        Dataset<Row> raw = spark.read()
                .option("header", s.csvHeader())
                .option("sep", s.csvDelimiter())
                .option("inferSchema", true)
                .option("mode", "FAILFAST")
                .csv(path);
        String label = s.labelColumn();
        if (!s.csvHeader() && label.matches("\\d+")) {
            label = "_c" + label;
        }
        return toExamples(raw, path, label, "", List.of(), s.numClasses());
    }

    public static Dataset<Row> readParquet(SparkSession spark, String path, DatasetSettings s) {
        Dataset<Row> raw = spark.read().parquet(path);
        return toExamples(raw, path, s.labelColumn(), s.featuresColumn(), s.featureColumns(), s.numClasses());
    }

    /** Maps a raw table to the example schema, checking the columns exist and have usable types. */
    static Dataset<Row> toExamples(Dataset<Row> raw, String path, String labelColumn, String featuresColumn,
                                   List<String> featureColumns, int numClasses) {
        StructType schema = raw.schema();
        List<String> names = Arrays.asList(schema.fieldNames());
        int labelIndex = -1;
        if (!labelColumn.isBlank()) {
            labelIndex = names.indexOf(labelColumn);
            if (labelIndex < 0) {
                throw new IllegalArgumentException(path + ": no label column '" + labelColumn
                        + "' (kd.dataset.label-column); columns are " + names + "; set label-column = \"\" for unlabeled data");
            }
            if (!(schema.fields()[labelIndex].dataType() instanceof NumericType)) {
                throw new IllegalArgumentException(path + ": label column '" + labelColumn + "' has type "
                        + schema.fields()[labelIndex].dataType().simpleString() + "; expected integer class indices");
            }
        }
        final int arrayIndex;
        final int[] columns;
        if (!featuresColumn.isBlank() && names.contains(featuresColumn)) {
            arrayIndex = names.indexOf(featuresColumn);
            DataType t = schema.fields()[arrayIndex].dataType();
            if (!(t instanceof ArrayType at) || !(at.elementType() instanceof NumericType)) {
                throw new IllegalArgumentException(path + ": features column '" + featuresColumn + "' has type "
                        + t.simpleString() + "; expected an array of numbers (kd.dataset.parquet.features-column)");
            }
            columns = null;
        } else {
            arrayIndex = -1;
            List<Integer> cols = new ArrayList<>();
            List<String> wanted = featureColumns.isEmpty() ? null : featureColumns;
            if (wanted != null) {
                for (String c : wanted) {
                    int i = names.indexOf(c);
                    if (i < 0) {
                        throw new IllegalArgumentException(path + ": no feature column '" + c
                                + "' (kd.dataset.parquet.feature-columns); columns are " + names);
                    }
                    cols.add(i);
                }
            } else {
                for (int i = 0; i < schema.fields().length; i++) {
                    StructField f = schema.fields()[i];
                    if (i != labelIndex && f.dataType() instanceof NumericType && !f.name().equals(ExampleSchema.ID)) {
                        cols.add(i);
                    }
                }
            }
            if (cols.isEmpty()) {
                throw new IllegalArgumentException(path + ": no numeric feature columns found; columns are " + names);
            }
            columns = cols.stream().mapToInt(Integer::intValue).toArray();
        }
        final int li = labelIndex;
        JavaRDD<Row> rows = raw.javaRDD().zipWithIndex().map(t -> {
            Row r = t._1();
            long id = t._2();
            float[] f;
            if (columns == null) {
                f = Rows.floats(r.getList(arrayIndex));
            } else {
                f = new float[columns.length];
                for (int j = 0; j < columns.length; j++) {
                    Object v = r.get(columns[j]);
                    if (v == null) {
                        throw new IllegalArgumentException(path + ": row " + id + " has an empty value in column '"
                                + r.schema().fields()[columns[j]].name() + "'");
                    }
                    f[j] = ((Number) v).floatValue();
                }
            }
            Integer label = null;
            if (li >= 0 && !r.isNullAt(li)) {
                double v = ((Number) r.get(li)).doubleValue();
                if (v != Math.rint(v) || v < 0 || v >= numClasses) {
                    throw new IllegalArgumentException(path + ": row " + id + " has label " + v + " in column '"
                            + labelColumn + "'; labels must be integers in [0, " + numClasses + ") (kd.dataset.num-classes)");
                }
                label = (int) v;
            }
            return RowFactory.create(id, f, label);
        });
        return raw.sparkSession().createDataFrame(rows, ExampleSchema.SCHEMA);
    }
}
