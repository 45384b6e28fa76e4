package dev.distill.testing;

import org.apache.spark.sql.SparkSession;

/** The {@code local[2]} session Spark tests share: UI off, bound to 127.0.0.1, few shuffle partitions. */
public final class LocalSpark {
    private LocalSpark() {
    }

    public static SparkSession start() {
        return SparkSession.builder()
                .master("local[2]")
                .appName("distill-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }
}
