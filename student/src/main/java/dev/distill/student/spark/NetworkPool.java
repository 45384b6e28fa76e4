package dev.distill.student.spark;

import dev.distill.student.layers.BatchNormKernel;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Networks built once per executor JVM and reused across tasks and rounds: building a DL4J network and
 * allocating its parameters costs far more than loading new values into it. One network per concurrently
 * running task (borrow, then give back), keyed by the configuration JSON. Configurations change during
 * quantisation-aware training (the tracked ranges are part of them), so at most {@value #MAX_CONFIGS}
 * configurations are kept; beyond that, others are dropped.
 */
public final class NetworkPool {
    private static final Map<String, ConcurrentLinkedQueue<MultiLayerNetwork>> POOL = new ConcurrentHashMap<>();
    private static volatile int blasThreads = -1;
    static final int MAX_CONFIGS = 8;

    private NetworkPool() {
    }

    public static MultiLayerNetwork borrow(String configJson) {
        MultiLayerNetwork net = POOL.computeIfAbsent(configJson, k -> new ConcurrentLinkedQueue<>()).poll();
        if (POOL.size() > MAX_CONFIGS) {
            POOL.keySet().stream().filter(k -> !k.equals(configJson)).findFirst().ifPresent(POOL::remove);
        }
        return net != null ? net : newNetwork(configJson);
    }

    /** A freshly initialised network of {@code configJson}, its batch norms on {@link BatchNormKernel}. */
    public static MultiLayerNetwork newNetwork(String configJson) {
        MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configJson));
        net.init();
        BatchNormKernel.install(net);
        return net;
    }

    public static void giveBack(String configJson, MultiLayerNetwork net) {
        POOL.computeIfAbsent(configJson, k -> new ConcurrentLinkedQueue<>()).add(net);
    }

    /**
     * Limits BLAS and ND4J threads in this JVM to the cores one Spark task owns ({@code spark.task.cpus}),
     * so concurrent tasks do not oversubscribe the executor's cores. OpenMP's thread count (oneDNN's kernels
     * and libnd4j's loops) belongs to each thread, so it is set for the calling thread every time.
     */
    public static void limitThreads(int threads) {
        if (threads <= 0) {
            return;
        }
        if (blasThreads != threads) {
            synchronized (NetworkPool.class) {
                if (blasThreads != threads) {
                    Nd4j.factory().blas().setMaxThreads(threads);   // also loads ND4J's backend, first
                    Nd4j.getEnvironment().setMaxThreads(threads);
                    blasThreads = threads;
                }
            }
        }
        // After the backend is loaded: the native ops holder cannot initialise before it.
        org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(threads);
    }
}
