package dev.distill.job;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Creates the Spark session of a job. A master given by {@code spark-submit} (spark.master) always wins:
 * {@code kd.spark.master} is used only when none is set, which is how the local launcher embeds Spark.
 * An embedded (local) driver binds to 127.0.0.1 only.
 */
public final class SparkSessions {
    private SparkSessions() {
    }

    public static SparkSession create(JobSettings s) {
        SparkConf conf = new SparkConf();
        if (!conf.contains("spark.master")) {
            conf.setMaster(s.sparkMaster());
            if (s.sparkMaster().startsWith("local")) {
                conf.setIfMissing("spark.driver.host", "127.0.0.1");
                conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            }
        }
        if (!conf.contains("spark.app.name")) {
            conf.setAppName(s.appName());
        }
        s.sparkConf().forEach(conf::set);
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
