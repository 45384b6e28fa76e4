package dev.distill.student;

import com.typesafe.config.Config;
import dev.distill.settings.SettingsReader;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One layer of an architecture as written in a job file, e.g. {@code { type = dense, units = 32 }}.
 * {@code dropout} (applied to the layer's outputs) and {@code rate} are drop probabilities (the PyTorch
 * convention), not DL4J's retain probabilities.
 */
public record LayerSpec(String type, int units, String activation, double dropout, int filters, int kernel,
                        int stride, String padding, String poolKind, Boolean quantise, double rank, Boolean prune) {

    /** A dense layer of {@code units} ReLU units; the {@code with...} methods change one setting. */
    public static LayerSpec dense(int units) {
        return new LayerSpec("dense", units, "relu", 0, 0, 0, 1, "same", "max", null, 0, null);
    }

    /** A convolution of {@code filters} {@code kernel}×{@code kernel} filters, stride 1, "same" padding, ReLU. */
    public static LayerSpec conv(int filters, int kernel) {
        return new LayerSpec("conv", 0, "relu", 0, filters, kernel, 1, "same", "max", null, 0, null);
    }

    /** Pooling of {@code kind} ({@code max} or {@code avg}) over {@code kernel}×{@code kernel}, stride {@code kernel}. */
    public static LayerSpec pool(String kind, int kernel) {
        return new LayerSpec("pool", 0, "identity", 0, 0, kernel, kernel, "same", kind, null, 0, null);
    }

    /** Batch normalisation with the identity activation (set one with {@link #withActivation}). */
    public static LayerSpec batchNorm() {
        return new LayerSpec("batch-norm", 0, "identity", 0, 0, 0, 1, "same", "max", null, 0, null);
    }

    /** A depthwise convolution (one {@code kernel}×{@code kernel} filter per channel), stride 1, "same", ReLU. */
    public static LayerSpec depthwise(int kernel) {
        return new LayerSpec("depthwise", 0, "relu", 0, 0, kernel, 1, "same", "max", null, 0, null);
    }

    /** Global average pooling: each channel of a feature map to its mean. */
    public static LayerSpec globalPool() {
        return new LayerSpec("global-pool", 0, "identity", 0, 0, 0, 1, "same", "avg", null, 0, null);
    }

    /** A dropout layer dropping each input with probability {@code rate}. */
    public static LayerSpec dropout(double rate) {
        return new LayerSpec("dropout", 0, "identity", rate, 0, 0, 1, "same", "max", null, 0, null);
    }

    /**
     * The start of a residual block: an identity layer whose input is added to the block's output by the
     * matching {@link #residualAdd}. A job file writes the block as {@code { type = residual, layers = [...] }};
     * the architecture holds it flattened between these two markers.
     */
    public static LayerSpec residualStart() {
        return new LayerSpec(RESIDUAL_START, 0, "identity", 0, 0, 0, 1, "same", "max", null, 0, null);
    }

    /** The end of a residual block: its input plus the block's input, then {@code activation}. */
    public static LayerSpec residualAdd(String activation) {
        return new LayerSpec(RESIDUAL_ADD, 0, activation, 0, 0, 0, 1, "same", "max", null, 0, null);
    }

    /** The marker types of a flattened residual block. */
    public static final String RESIDUAL_START = "residual-start";
    public static final String RESIDUAL_ADD = "residual-add";

    public LayerSpec withActivation(String a) {
        return new LayerSpec(type, units, a, dropout, filters, kernel, stride, padding, poolKind, quantise, rank, prune);
    }

    /** Drop probability of this layer's outputs. */
    public LayerSpec withDropout(double p) {
        return new LayerSpec(type, units, activation, p, filters, kernel, stride, padding, poolKind, quantise, rank, prune);
    }

    public LayerSpec withStride(int s) {
        return new LayerSpec(type, units, activation, dropout, filters, kernel, s, padding, poolKind, quantise, rank, prune);
    }

    /** {@code same} or {@code valid}. */
    public LayerSpec withPadding(String p) {
        return new LayerSpec(type, units, activation, dropout, filters, kernel, stride, p, poolKind, quantise, rank, prune);
    }

    /** Whether quantisation-aware training quantises this layer; null follows the student's setting. */
    public LayerSpec withQuantise(Boolean q) {
        return new LayerSpec(type, units, activation, dropout, filters, kernel, stride, padding, poolKind, q, rank, prune);
    }

    /** This layer factorised to {@code rank} (a number of components, or a retained-energy fraction below 1). */
    public LayerSpec withRank(double r) {
        return new LayerSpec(type, units, activation, dropout, filters, kernel, stride, padding, poolKind, quantise, r, prune);
    }

    /** Whether pruning prunes this layer; null follows the student's setting. */
    public LayerSpec withPrune(Boolean p) {
        return new LayerSpec(type, units, activation, dropout, filters, kernel, stride, padding, poolKind, quantise, rank, p);
    }

    /** True when this dense layer is factorised as U·V. */
    public boolean lowRank() {
        return rank > 0;
    }

    /** True when the rank is given as a retained-energy fraction, resolved from a trained layer's SVD. */
    public boolean rankByEnergy() {
        return rank > 0 && rank < 1;
    }

    static final Map<String, Set<String>> KEYS = Map.of(
            "dense", Set.of("type", "units", "activation", "dropout", "quantise", "rank", "prune"),
            "conv", Set.of("type", "filters", "kernel", "stride", "padding", "activation", "dropout", "quantise", "prune"),
            "depthwise", Set.of("type", "kernel", "stride", "padding", "activation", "dropout", "quantise", "prune"),
            "pool", Set.of("type", "kind", "kernel", "stride"),
            "global-pool", Set.of("type"),
            "batch-norm", Set.of("type", "activation"),
            "dropout", Set.of("type", "rate"),
            "residual", Set.of("type", "layers", "activation"),
            "output", Set.of("type", "units"));

    static final Set<String> ACTIVATIONS = Set.of("relu", "leaky-relu", "elu", "tanh", "sigmoid", "swish", "identity");

    /** Reads and validates {@code element}, reporting problems under {@code key} (e.g. {@code kd.student.architecture.layers[2]}). */
    static LayerSpec read(SettingsReader parent, Config element, String key) {
        SettingsReader r = parent.over(element, key);
        int before = r.problems().size();
        String type = r.oneOf("type", KEYS.keySet().stream().sorted().toArray(String[]::new));
        boolean typeKnown = r.problems().size() == before;
        Set<String> allowed = KEYS.get(type);
        for (String k : new TreeSet<>(element.root().keySet())) {
            // After an unknown type (reported), the stand-in type's keys say nothing about this layer.
            if (typeKnown && element.hasPath("type") && !allowed.contains(k)) {
                r.problem(k, "unknown key for a " + type + " layer; valid keys: " + String.join(", ", new TreeSet<>(allowed)));
            }
        }
        int units = 0;
        String activation = "identity";
        double dropout = 0;
        int filters = 0;
        int kernel = 0;
        int stride = 1;
        String padding = "same";
        String poolKind = "max";
        Boolean quantise = element.hasPath("quantise") && allowed.contains("quantise") ? r.bool("quantise") : null;
        Boolean prune = element.hasPath("prune") && allowed.contains("prune") ? r.bool("prune") : null;
        double rank = 0;
        switch (type) {
            case "dense" -> {
                units = r.integer("units", 1, 1 << 20);
                activation = element.hasPath("activation") ? activation(r) : "relu";
                if (element.hasPath("rank")) {
                    rank = r.numberIn("rank", 0, 1 << 20);
                    if (rank >= 1 && rank != Math.rint(rank)) {
                        r.problem("rank", "must be a whole number of components (>= 1) or a retained-energy fraction in (0, 1)");
                    } else if (rank == 0) {
                        r.problem("rank", "must be a whole number of components (>= 1) or a retained-energy fraction in (0, 1)");
                    } else if (rank >= 1 && units > 0 && rank >= units) {
                        r.problem("rank", "must be below the layer's " + units + " units to make it smaller");
                    }
                }
                dropout = element.hasPath("dropout") ? r.numberIn("dropout", 0, 0.95) : 0;
            }
            case "conv", "depthwise" -> {
                filters = "conv".equals(type) ? r.integer("filters", 1, 1 << 16) : 0;
                kernel = r.integer("kernel", 1, 64);
                stride = element.hasPath("stride") ? r.integer("stride", 1, 64) : 1;
                padding = element.hasPath("padding") ? r.oneOf("padding", "same", "valid") : "same";
                activation = element.hasPath("activation") ? activation(r) : "relu";
                dropout = element.hasPath("dropout") ? r.numberIn("dropout", 0, 0.95) : 0;
            }
            case "pool" -> {
                poolKind = element.hasPath("kind") ? r.oneOf("kind", "max", "avg") : "max";
                kernel = r.integer("kernel", 1, 64);
                stride = element.hasPath("stride") ? r.integer("stride", 1, 64) : kernel;
            }
            case "batch-norm" -> activation = element.hasPath("activation") ? activation(r) : "identity";
            case "residual" -> activation = element.hasPath("activation") ? activation(r) : "identity";
            case "global-pool" -> poolKind = "avg";
            case "dropout" -> dropout = r.numberIn("rate", 0, 0.95);
            case "output" -> units = element.hasPath("units") ? r.integer("units", 2, 1_000_000) : 0;
            default -> {
            }
        }
        return new LayerSpec(type, units, activation, dropout, filters, kernel, stride, padding, poolKind, quantise, rank,
                prune);
    }

    private static String activation(SettingsReader r) {
        String a = r.string("activation").toLowerCase(Locale.ROOT);
        if (!ACTIVATIONS.contains(a)) {
            r.problem("activation", "must be one of " + String.join(", ", new TreeSet<>(ACTIVATIONS)));
            return "relu";
        }
        return a;
    }
}
