package dev.distill.student.spark;

import dev.distill.student.NativeBackend;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

import java.util.Map;

/**
 * Runs {@link NativeBackend#prepare()} in every executor as it starts, before any task loads ND4J: each
 * machine of a cluster chooses the native build for its own CPU. Registered in {@code spark.plugins} by the
 * job's Spark session.
 */
public final class NativeBackendPlugin implements SparkPlugin {
    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(PluginContext ctx, Map<String, String> extraConf) {
                NativeBackend.prepare();
            }
        };
    }
}
