package dev.distill.student;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Chooses ND4J's native library and turns on DL4J's oneDNN layer helpers, before ND4J loads.
 *
 * <p>Two builds of nd4j-native 1.0.0-M2.1 are on the class path: {@code linux-x86_64-onednn-avx2} (libnd4j
 * built for AVX2/FMA with oneDNN's convolution, pooling and batch-normalisation kernels) and the plain
 * {@code linux-x86_64} build. JavaCPP loads the first build listed in ND4J's presets that is present, and the
 * AVX2 build would stop the JVM with an illegal instruction on a CPU without AVX2; so on such a CPU
 * {@link #prepare()} sets JavaCPP's {@code org.bytedeco.javacpp.platform.extension} to the empty extension,
 * which loads the plain build. A user's own setting of that property wins.
 *
 * <p>DL4J 1.0.0-M2.1 creates no layer helper unless {@code org.eclipse.deeplearning4j.helpers.disable} is
 * {@code false}; without helpers its convolution layer runs an im2col and a GEMM per example batch through
 * ND4J, which measured 5-6 times slower than oneDNN for the 9,098-parameter CNN (README, Benchmark). This
 * class sets it to {@code false} unless the user set it. DL4J's check that oneDNN is in use looks for a class
 * that ND4J renamed in this version; {@link org.nd4j.nativeblas.Nd4jCpu} answers it.
 *
 * <p>{@link #prepare()} must run in every JVM before ND4J loads: {@code DistillMain} calls it first, and the
 * Spark plugin {@link dev.distill.student.spark.NativeBackendPlugin} in every executor as it starts.
 */
public final class NativeBackend {
    /** JavaCPP's system property choosing the build extension of native libraries. */
    public static final String EXTENSION = "org.bytedeco.javacpp.platform.extension";
    /** DL4J's system property that, unless false, keeps layers from using oneDNN helpers. */
    public static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";

    private NativeBackend() {
    }

    /** Chooses the build for this CPU and enables the helpers; idempotent, and a no-op for properties already set. */
    public static void prepare() {
        prepare(cpuFlags());
    }

    /** {@link #prepare()} on a CPU of these {@code /proc/cpuinfo} flags (null: unknown, keep the default). */
    static synchronized void prepare(String flags) {
        if (System.getProperty(EXTENSION) == null) {
            if (flags != null && !supportsAvx2(flags)) {
                System.setProperty(EXTENSION, "");
            }
        }
        if (System.getProperty(HELPERS_DISABLE) == null) {
            System.setProperty(HELPERS_DISABLE, "false");
        }
    }

    /**
     * True when the {@code flags} line of {@code /proc/cpuinfo} names both AVX2 and FMA, the instruction sets the
     * AVX2 build of libnd4j and oneDNN's AVX2 kernels are compiled for.
     */
    public static boolean supportsAvx2(String flagsLine) {
        String line = flagsLine.contains(":") ? flagsLine.substring(flagsLine.indexOf(':') + 1) : flagsLine;
        Set<String> flags = Arrays.stream(line.trim().toLowerCase(Locale.ROOT).split("\\s+")).collect(Collectors.toSet());
        return flags.contains("avx2") && flags.contains("fma");
    }

    /** The first {@code flags} line of /proc/cpuinfo, or null where there is none (not Linux, not x86). */
    static String cpuFlags() {
        try {
            Path info = Path.of("/proc/cpuinfo");
            if (!Files.isReadable(info)) {
                return null;
            }
            try (var lines = Files.lines(info)) {
                return lines.filter(l -> l.startsWith("flags")).findFirst().orElse(null);
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The native build ND4J loaded and whether oneDNN helpers are in use, e.g. {@code nd4j-native
     * linux-x86_64-onednn-avx2, DL4J layer helpers on}; for the log and the provenance record.
     */
    public static String describe() {
        try {
            org.nd4j.linalg.factory.Nd4j.getBackend();
            String build = org.bytedeco.javacpp.Loader.getLoadedLibraries().entrySet().stream()
                    .filter(e -> e.getKey().equals("nd4jcpu") || e.getKey().equals("jnind4jcpu"))
                    .map(e -> Path.of(e.getValue()).getParent())
                    .filter(java.util.Objects::nonNull)
                    .map(p -> p.getFileName().toString())
                    .findFirst().orElse("(build not known)");
            boolean helpers = !Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE, "true"))
                    && org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper.mklDnnEnabled();
            return "nd4j-native " + build + ", DL4J layer helpers " + (helpers ? "on" : "off");
        } catch (RuntimeException | LinkageError e) {
            return "nd4j-native (cannot tell which build: " + e + ")";
        }
    }
}
