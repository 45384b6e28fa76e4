package dev.distill.job;

import dev.distill.student.spark.NativeBackendPlugin;
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
        // Every executor chooses ND4J's native build for its own CPU before a task loads ND4J.
        String plugins = conf.get("spark.plugins", "");
        if (!plugins.contains(NativeBackendPlugin.class.getName())) {
            conf.set("spark.plugins", (plugins.isBlank() ? "" : plugins + ",") + NativeBackendPlugin.class.getName());
        }
        // One OpenMP thread per core a task owns: oneDNN's and libnd4j's parallel loops otherwise start a team
        // of every core in each of the tasks that run at once, which oversubscribes the executor.
        conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", conf.get("spark.task.cpus", "1"));
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
