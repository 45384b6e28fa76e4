package dev.distill.datasets;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The schema every data source is read into: a stable {@code id} (the same on every rerun), the flattened
 * and normalised {@code features}, and the hard {@code label} (null where the row has none).
 */
public final class ExampleSchema {
    public static final String ID = "id";
    public static final String FEATURES = "features";
    public static final String LABEL = "label";

    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField(ID, DataTypes.LongType, false),
        DataTypes.createStructField(FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false),
        DataTypes.createStructField(LABEL, DataTypes.IntegerType, true),
    });

    private ExampleSchema() {
    }
}
