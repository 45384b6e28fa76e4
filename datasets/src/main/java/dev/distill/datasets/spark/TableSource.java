package dev.distill.datasets.spark;

import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.ExampleSchema;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
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

    /** A CSV source: see {@link CsvSource}. */
    public static Dataset<Row> readCsv(SparkSession spark, String path, DatasetSettings s) {
        return CsvSource.read(spark, path, s);
    }

    public static Dataset<Row> readParquet(SparkSession spark, String path, DatasetSettings s) {
        Dataset<Row> raw = spark.read().parquet(path);
        return toExamples(raw, path, s.labelColumn(), s.featuresColumn(), s.featureColumns(), s.numClasses());
    }

    /**
     * The number of features per row of a Parquet source, read on the driver from the first file's schema
     * (and, for an array column, its first row) before any Spark job; checks that the label and feature
     * columns exist. Throws {@link IllegalArgumentException} naming the file and column.
     */
    public static int parquetFeatures(org.apache.hadoop.conf.Configuration conf, String path, DatasetSettings s) {
        String file = CsvSource.files(conf, path).get(0);
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(file);
        org.apache.parquet.schema.MessageType schema = schemaWithLabel(conf, file, s);
        List<String> names = new ArrayList<>();
        schema.getFields().forEach(f -> names.add(f.getName()));
        String label = s.labelColumn().strip();
        String array = s.featuresColumn().strip();
        if (!array.isEmpty() && names.contains(array)) {
            try (var reader = org.apache.parquet.hadoop.ParquetReader.builder(
                    new org.apache.parquet.hadoop.example.GroupReadSupport(), p).withConf(conf).build()) {
                org.apache.parquet.example.data.Group g = reader.read();
                if (g == null || g.getFieldRepetitionCount(array) == 0) {
                    return 0;
                }
                if (schema.getType(array).isPrimitive()) {
                    return g.getFieldRepetitionCount(array);
                }
                org.apache.parquet.example.data.Group list = g.getGroup(array, 0);
                return list.getType().getFieldCount() == 0 ? 0 : list.getFieldRepetitionCount(0);
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException(file + " is not a readable Parquet file (" + e.getMessage() + ")");
            }
        }
        if (!s.featureColumns().isEmpty()) {
            for (String c : s.featureColumns()) {
                if (!names.contains(c)) {
                    throw new IllegalArgumentException(missingColumn(file, c, names, "kd.dataset.parquet.feature-columns"));
                }
            }
            return s.featureColumns().size();
        }
        int n = 0;
        for (var f : schema.getFields()) {
            if (f.isPrimitive() && !f.getName().equals(label) && !f.getName().equals(ExampleSchema.ID)
                    && f.asPrimitiveType().getPrimitiveTypeName() != org.apache.parquet.schema.PrimitiveType
                    .PrimitiveTypeName.BINARY && f.asPrimitiveType().getPrimitiveTypeName() != org.apache.parquet
                    .schema.PrimitiveType.PrimitiveTypeName.BOOLEAN) {
                n++;
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException(file + ": no numeric feature columns (and no array column '" + array
                    + "', kd.dataset.parquet.features-column); the data has columns " + CsvSource.abbreviate(names));
        }
        return n;
    }

    /** The schema in {@code file}'s footer, checked to hold the label column (unless the data have no labels). */
    private static org.apache.parquet.schema.MessageType schemaWithLabel(org.apache.hadoop.conf.Configuration conf,
                                                                         String file, DatasetSettings s) {
        org.apache.parquet.schema.MessageType schema;
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(
                org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file), conf))) {
            schema = reader.getFooter().getFileMetaData().getSchema();
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not a readable Parquet file (" + e.getMessage() + ")");
        }
        List<String> names = new ArrayList<>();
        schema.getFields().forEach(f -> names.add(f.getName()));
        String label = s.labelColumn().strip();
        if (!label.isEmpty() && !names.contains(label)) {
            throw new IllegalArgumentException(missingColumn(file, label, names, "kd.dataset.label-column")
                    + "; set label-column = \"\" for unlabeled data");
        }
        return schema;
    }

    /**
     * For a Parquet source of encoded images, read on the driver from the first file's footer before any Spark
     * job: the image column holds encoded images (binary, or a group with a binary {@code bytes} field), the
     * label column exists, and the Hugging Face class names (if any) fit {@code num-classes}. Throws
     * {@link IllegalArgumentException} naming the file and column.
     */
    public static void checkImageColumns(org.apache.hadoop.conf.Configuration conf, String path, DatasetSettings s) {
        String file = CsvSource.files(conf, path).get(0);
        org.apache.parquet.schema.MessageType schema = schemaWithLabel(conf, file, s);
        List<String> names = new ArrayList<>();
        schema.getFields().forEach(f -> names.add(f.getName()));
        String column = s.imageColumn();
        if (!names.contains(column)) {
            throw new IllegalArgumentException(missingColumn(file, column, names, "kd.dataset.parquet.image-column"));
        }
        var type = schema.getType(column);
        var binary = org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
        boolean encoded = type.isPrimitive() ? type.asPrimitiveType().getPrimitiveTypeName() == binary
                : type.asGroupType().containsField("bytes") && type.asGroupType().getType("bytes").isPrimitive()
                && type.asGroupType().getType("bytes").asPrimitiveType().getPrimitiveTypeName() == binary;
        if (!encoded) {
            throw new IllegalArgumentException(file + ": image column '" + column + "' is " + type.toString().strip()
                    + "; expected encoded images: binary, or a struct with a binary field 'bytes' (the Hugging Face"
                    + " layout, struct<bytes: binary, path: string>) (kd.dataset.parquet.image-column)");
        }
        HuggingFaceMetadata.check(conf, s);
    }

    /**
     * For a Parquet source read by its numeric columns: the settings with those columns named as the training
     * source's first file has them, so the test source's columns are picked by name, not position (a test file
     * with its columns in another order would otherwise be misread silently).
     */
    public static DatasetSettings withTrainColumns(org.apache.hadoop.conf.Configuration conf, DatasetSettings s) {
        if (!s.featureColumns().isEmpty() || !s.hasTestSource()) {
            return s;
        }
        String file = CsvSource.files(conf, s.train()).get(0);
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(
                org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file), conf))) {
            var schema = reader.getFooter().getFileMetaData().getSchema();
            if (!s.featuresColumn().isBlank() && schema.containsField(s.featuresColumn())) {
                return s;   // one array column, read by name already
            }
            List<String> names = new ArrayList<>();
            for (var f : schema.getFields()) {
                if (f.isPrimitive() && !f.getName().equals(s.labelColumn()) && !f.getName().equals(ExampleSchema.ID)
                        && f.asPrimitiveType().getPrimitiveTypeName() != org.apache.parquet.schema.PrimitiveType
                        .PrimitiveTypeName.BINARY && f.asPrimitiveType().getPrimitiveTypeName() != org.apache.parquet
                        .schema.PrimitiveType.PrimitiveTypeName.BOOLEAN) {
                    names.add(f.getName());
                }
            }
            return s.withFeatureColumns(names);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(file + " is not a readable Parquet file (" + e.getMessage() + ")");
        }
    }

    /** The column holding each row's file while a table is converted (for messages). */
    static final String FILE = "_distill_file";

    /** Maps a raw table to the example schema, checking the columns exist and have usable types. */
    static Dataset<Row> toExamples(Dataset<Row> raw, String path, String labelColumn, String featuresColumn,
                                   List<String> featureColumns, int numClasses) {
        StructType schema = raw.schema();
        List<String> names = Arrays.asList(schema.fieldNames());
        int labelIndex = labelIndex(path, schema, labelColumn);
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
                        throw new IllegalArgumentException(missingColumn(path, c, names,
                                "kd.dataset.parquet.feature-columns"));
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
        final int fileIndex = names.size();
        final String[] columnNames = schema.fieldNames();
        JavaRDD<Row> rows = raw.withColumn(FILE, functions.input_file_name()).javaRDD().zipWithIndex().map(t -> {
            Row r = t._1();
            long id = t._2();
            float[] f;
            if (columns == null) {
                if (r.isNullAt(arrayIndex)) {
                    throw new IllegalArgumentException(r.getString(fileIndex) + ": row " + id + " has no value in column '"
                            + columnNames[arrayIndex] + "'; every row needs its features");
                }
                List<?> xs = r.getList(arrayIndex);
                f = new float[xs.size()];
                for (int j = 0; j < f.length; j++) {
                    f[j] = finite(xs.get(j), r.getString(fileIndex), id, columnNames[arrayIndex] + "[" + j + "]");
                }
            } else {
                f = new float[columns.length];
                for (int j = 0; j < columns.length; j++) {
                    f[j] = finite(r.get(columns[j]), r.getString(fileIndex), id, columnNames[columns[j]]);
                }
            }
            Integer label = label(r, li, numClasses, r.getString(fileIndex), id, labelColumn);
            return RowFactory.create(id, f, label);
        });
        return raw.sparkSession().createDataFrame(rows, ExampleSchema.SCHEMA);
    }

    /** The index of the label column in {@code schema} (-1 when {@code labelColumn} is blank), checked numeric. */
    static int labelIndex(String path, StructType schema, String labelColumn) {
        if (labelColumn.isBlank()) {
            return -1;
        }
        List<String> names = Arrays.asList(schema.fieldNames());
        int labelIndex = names.indexOf(labelColumn);
        if (labelIndex < 0) {
            throw new IllegalArgumentException(missingColumn(path, labelColumn, names, "kd.dataset.label-column")
                    + "; set label-column = \"\" for unlabeled data");
        }
        if (!(schema.fields()[labelIndex].dataType() instanceof NumericType)) {
            throw new IllegalArgumentException(path + ": label column '" + labelColumn + "' has type "
                    + schema.fields()[labelIndex].dataType().simpleString() + "; expected integer class indices");
        }
        return labelIndex;
    }

    /** Row {@code r}'s label (null where it has none), which must be an integer class index. */
    static Integer label(Row r, int labelIndex, int numClasses, String file, long id, String labelColumn) {
        if (labelIndex < 0 || r.isNullAt(labelIndex)) {
            return null;
        }
        double v = ((Number) r.get(labelIndex)).doubleValue();
        if (v != Math.rint(v) || v < 0 || v >= numClasses) {
            throw new IllegalArgumentException(file + ": row " + id + " has label " + v + " in column '"
                    + labelColumn + "'; labels must be integers in [0, " + numClasses + ") (kd.dataset.num-classes)");
        }
        return (int) v;
    }

    /**
     * "{@code path}: no column 'x' (key); did you mean 'y'? the header names N columns: a, b, ..., z": the
     * nearest name by edit distance when one is close, and a few of the names rather than all of them.
     */
    public static String missingColumn(String path, String name, List<String> columns, String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : columns) {
            int d = dev.distill.settings.UnknownKeys.editDistance(name.toLowerCase(java.util.Locale.ROOT),
                    c.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        String hint = best != null && bestDistance <= Math.max(2, name.length() / 3) ? "did you mean '" + best + "'? "
                : "";
        return path + ": no column '" + name + "' (" + key + "); " + hint + "the data has "
                + CsvSource.columns(columns.size()) + ": " + CsvSource.abbreviate(columns);
    }

    /** A feature value, which must be present and finite; else an error naming the file, row and column. */
    private static float finite(Object v, String file, long id, String column) {
        if (v == null) {
            throw new IllegalArgumentException(file + ": row " + id + " has an empty value in column '" + column
                    + "'; features must be finite numbers");
        }
        float f = ((Number) v).floatValue();
        if (!Float.isFinite(f)) {
            throw new IllegalArgumentException(file + ": row " + id + " has " + v + " in column '" + column
                    + "'; features must be finite numbers");
        }
        return f;
    }
}
