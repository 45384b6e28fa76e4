package dev.distill.student;

import dev.distill.student.layers.BatchNormKernel;
import dev.distill.student.layers.Relu;
import dev.distill.student.loss.DistillationLoss;

import com.typesafe.config.Config;
import dev.distill.settings.SettingsReader;
import dev.distill.student.quant.QuantisationSettings;
import dev.distill.student.quant.QuantisedActivation;
import dev.distill.student.layers.ResidualAdd;
import dev.distill.student.layers.ResidualStart;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;

import java.util.ArrayList;
import java.util.List;

/**
 * An architecture from a job file: the hidden layers in order, then an output layer of {@code numClasses}
 * units with the identity activation (its outputs are logits) trained with a {@link DistillationLoss}. The output layer
 * may be written explicitly as {@code { type = output }}; if omitted it is appended.
 */
public record NetworkSpec(int[] inputShape, int numClasses, List<LayerSpec> layers, QuantisationSettings quantisation) {
    static {
        NativeBackend.prepare();   // oneDNN layer helpers for every network built here (a no-op once done)
    }


    /** An architecture trained in floating point. */
    public NetworkSpec(int[] inputShape, int numClasses, List<LayerSpec> layers) {
        this(inputShape, numClasses, layers, QuantisationSettings.OFF);
    }

    /** This architecture with quantisation-aware training set by {@code q}. */
    public NetworkSpec withQuantisation(QuantisationSettings q) {
        return new NetworkSpec(inputShape, numClasses, layers, q);
    }

    public boolean quantised() {
        return quantisation.enabled();
    }

    /**
     * True when a batch normalisation's activation is a layer of its own (DL4J's BatchNormalization does not
     * apply the activation it is given): a non-identity activation, or any under quantisation-aware training,
     * where it carries the quantiser of the batch norm's output.
     */
    boolean separateActivation(LayerSpec l) {
        return "batch-norm".equals(l.type()) && (quantised() || !"identity".equals(l.activation()));
    }

    /**
     * DL4J's indices of architecture layer {@code i} ({@code i = layers().size()} is the output layer): one
     * layer, or two for a factorised dense layer (U then V), after the input quantiser of a
     * quantisation-aware network.
     */
    public int[] dl4jIndices(int i) {
        int at = quantised() ? 1 : 0;
        for (int k = 0; k < i; k++) {
            at += layers.get(k).lowRank() || separateActivation(layers.get(k)) ? 2 : 1;
        }
        return i < layers.size() && layers.get(i).lowRank() ? new int[] {at, at + 1} : new int[] {at};
    }

    /**
     * DL4J indices of the weight layers a compression method works on: every dense and conv layer for which
     * {@code included} holds (both factors of a low-rank layer), then the output layer.
     */
    public int[] weightLayers(java.util.function.Predicate<LayerSpec> included) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            if (("dense".equals(l.type()) || "conv".equals(l.type()) || "depthwise".equals(l.type())) && included.test(l)) {
                for (int index : dl4jIndices(i)) {
                    out.add(index);
                }
            }
        }
        out.add(dl4jIndices(layers.size())[0]);
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Where architecture layer {@code i} is written in the job file's list, e.g. {@code layers[1].layers[0]} for
     * the first layer of a residual block at position 1 ({@code layers[1]} for the block's two ends), and {@code
     * the output layer} for {@code i = layers().size()}.
     */
    public String path(int i) {
        if (i == layers.size()) {
            return "the output layer";
        }
        List<Integer> at = new ArrayList<>(List.of(-1));
        for (int k = 0; k <= i; k++) {
            String type = layers.get(k).type();
            if (LayerSpec.RESIDUAL_ADD.equals(type)) {
                at.remove(at.size() - 1);   // back at the block's own position
            } else {
                at.set(at.size() - 1, at.get(at.size() - 1) + 1);
            }
            if (k == i) {
                break;
            }
            if (LayerSpec.RESIDUAL_START.equals(type)) {
                at.add(-1);
            }
        }
        StringBuilder b = new StringBuilder();
        for (int a : at) {
            b.append(b.length() == 0 ? "" : ".").append("layers[").append(a).append(']');
        }
        return b.toString();
    }

    /** True when some layer still has its rank as an energy fraction (see {@code LowRank.resolve}). */
    public boolean ranksUnresolved() {
        return layers.stream().anyMatch(LayerSpec::rankByEnergy);
    }

    /** This architecture with {@code layers} in place of its own. */
    public NetworkSpec withLayers(List<LayerSpec> replaced) {
        return new NetworkSpec(inputShape, numClasses, List.copyOf(replaced), quantisation);
    }

    /**
     * Where one layer of the flattened architecture is set in a job file: its element (for a residual block's
     * two markers, the block's element) and that element's full key, e.g. {@code
     * kd.student.architecture.layers[3].layers[0]}.
     */
    public record Element(Config config, String key, String kind) {
        /** A layer of its own. */
        static final String LAYER = "layer";

        /** True for the layer a job file element describes (not a residual block's marker). */
        public boolean isLayer() {
            return LAYER.equals(kind);
        }
    }

    /**
     * The elements of {@code section.layers} in the order of the architecture's layers: a residual block
     * {@code { type = residual, layers = [...] }} becomes its start marker, its layers, and its add marker; an
     * output layer is left out. Reports nothing (see {@link #read}).
     */
    public static List<Element> elements(SettingsReader section) {
        List<Element> out = new ArrayList<>();
        if (section.config().hasPath("layers")) {
            try {
                flatten(section.config().getConfigList("layers"), section.fullKey("layers"), out);
            } catch (com.typesafe.config.ConfigException e) {
                // not a list of objects: read reports it
            }
        }
        return out;
    }

    private static void flatten(List<? extends Config> raw, String listKey, List<Element> out) {
        for (int i = 0; i < raw.size(); i++) {
            Config c = raw.get(i);
            String key = listKey + "[" + i + "]";
            String type = typeOf(c);
            if ("output".equals(type)) {
                continue;
            }
            if ("residual".equals(type)) {
                out.add(new Element(c, key, LayerSpec.RESIDUAL_START));
                try {
                    if (c.hasPath("layers")) {
                        flatten(c.getConfigList("layers"), key + ".layers", out);
                    }
                } catch (com.typesafe.config.ConfigException e) {
                    // reported by read
                }
                out.add(new Element(c, key, LayerSpec.RESIDUAL_ADD));
                continue;
            }
            out.add(new Element(c, key, Element.LAYER));
        }
    }

    private static String typeOf(Config c) {
        try {
            return c.hasPath("type") ? c.getString("type") : "";
        } catch (com.typesafe.config.ConfigException e) {
            return "";
        }
    }

    /** Reads {@code section.layers}; problems go to {@code section}'s list. */
    public static NetworkSpec read(SettingsReader section, int[] inputShape, int numClasses) {
        int before = section.problems().size();
        List<? extends Config> raw = section.configList("layers");
        List<Element> elements = raw.isEmpty() ? List.of() : elements(section);
        List<LayerSpec> layers = new ArrayList<>();
        for (Element e : elements) {
            SettingsReader element = section.over(e.config(), e.key());
            switch (e.kind()) {
                case LayerSpec.RESIDUAL_START -> {
                    List<? extends Config> inner = element.configList("layers");
                    if (inner.isEmpty() && e.config().hasPath("layers")) {
                        element.problem("layers", "a residual block needs at least one layer, e.g."
                                + " [ { type = conv, filters = 16, kernel = 3 } ]");
                    }
                    for (int i = 0; i < inner.size(); i++) {
                        if ("output".equals(typeOf(inner.get(i)))) {
                            element.over(inner.get(i), e.key() + ".layers[" + i + "]").problem("type",
                                    "an output layer may only be the last layer of the architecture, not inside a residual block");
                        }
                    }
                    layers.add(LayerSpec.residualStart());
                }
                case LayerSpec.RESIDUAL_ADD -> layers.add(LayerSpec.residualAdd(
                        LayerSpec.read(section, e.config(), e.key()).activation()));
                default -> layers.add(LayerSpec.read(section, e.config(), e.key()));
            }
        }
        for (int i = 0; i < raw.size(); i++) {
            if ("output".equals(typeOf(raw.get(i)))) {
                LayerSpec l = LayerSpec.read(section, raw.get(i), section.fullKey("layers") + "[" + i + "]");
                SettingsReader element = section.over(raw.get(i), section.fullKey("layers") + "[" + i + "]");
                if (i != raw.size() - 1) {
                    element.problem("type", "an output layer may only be the last layer (found at position " + i
                            + " of " + raw.size() + ")");
                }
                if (l.units() != 0 && l.units() != numClasses) {
                    element.problem("units", "the output layer has " + l.units() + " units but the data has "
                            + numClasses + " classes (kd.dataset.num-classes, which the teacher shares); they must match");
                }
            }
        }
        if (section.has("layers") && layers.isEmpty() && raw.isEmpty()) {
            section.problem("layers", "must list at least one layer, e.g. [ { type = dense, units = 32 } ]");
        }
        boolean conv = layers.stream().anyMatch(l -> MAP_LAYERS.contains(l.type()));
        if (conv && inputShape.length != 3) {
            section.problem("layers", "convolution and pooling layers need a [channels, height, width] input shape;"
                    + " the data's input shape is " + java.util.Arrays.toString(inputShape)
                    + " (set kd.dataset.input-shape)");
        }
        NetworkSpec spec = new NetworkSpec(inputShape, numClasses, List.copyOf(layers));
        spec.checkOrder(section, elements);
        if (section.problems().size() == before) {   // shapes of layers that read cleanly
            spec.checkResidualShapes(section, elements);
        }
        return spec;
    }

    /** Layer types that work on a [channels, height, width] feature map. */
    static final java.util.Set<String> MAP_LAYERS = java.util.Set.of("conv", "depthwise", "pool", "global-pool");

    /**
     * Layers that only make sense on a feature map must come before the first dense layer (after it, the
     * activations are a flat vector): a convolution, depthwise convolution or pooling after a dense or global
     * pooling layer is an error naming both layers.
     */
    private void checkOrder(SettingsReader section, List<Element> elements) {
        if (inputShape.length != 3) {
            return;
        }
        int flat = -1;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            if (flat >= 0 && MAP_LAYERS.contains(l.type())) {
                section.over(elements.get(i).config(), elements.get(i).key()).problem("type", "a " + l.type()
                        + " layer needs a feature map, but " + path(flat) + " ("
                        + layers.get(flat).type() + ") has already made the activations a flat vector; put the "
                        + l.type() + " layer before it");
                return;
            }
            if (flat < 0 && ("dense".equals(l.type()) || "global-pool".equals(l.type()))) {
                flat = i;
            }
        }
    }

    /**
     * A residual block adds its input to its layers' output, so its layers must keep the shape of its input:
     * an error naming the block and both shapes otherwise.
     */
    private void checkResidualShapes(SettingsReader section, List<Element> elements) {
        java.util.ArrayDeque<int[]> starts = new java.util.ArrayDeque<>();
        int[] shape = inputShape.clone();
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            if (LayerSpec.RESIDUAL_START.equals(l.type())) {
                starts.push(shape);
            } else if (LayerSpec.RESIDUAL_ADD.equals(l.type())) {
                int[] in = starts.pop();
                if (!java.util.Arrays.equals(in, shape)) {
                    section.over(elements.get(i).config(), elements.get(i).key()).problem("type", "a residual block"
                            + " adds its input to the output of its layers, so they must keep its shape "
                            + java.util.Arrays.toString(in) + "; they give " + java.util.Arrays.toString(shape)
                            + " (keep stride 1, \"same\" padding, no pooling, and as many filters as the block's input"
                            + " has channels)");
                    return;
                }
            } else {
                shape = outputShape(l, shape);
            }
        }
    }

    /** The shape of {@code l}'s output for an input of {@code in} ([channels, height, width] or [width]). */
    static int[] outputShape(LayerSpec l, int[] in) {
        return switch (l.type()) {
            case "dense" -> new int[] {l.units()};
            case "global-pool" -> new int[] {in[0]};
            case "conv", "depthwise", "pool" -> {
                if (in.length != 3) {
                    yield in;
                }
                int[] out = {"conv".equals(l.type()) ? l.filters() : in[0], 0, 0};
                for (int d = 1; d <= 2; d++) {
                    // DL4J's "same" mode (pooling always uses it here) gives ceil(in / stride); "valid" truncates.
                    out[d] = "valid".equals(l.padding()) && !"pool".equals(l.type())
                            ? Math.max(0, (in[d] - l.kernel()) / l.stride() + 1) : (in[d] + l.stride() - 1) / l.stride();
                }
                yield out;
            }
            default -> in;
        };
    }

    public int featureLength() {
        int n = 1;
        for (int d : inputShape) {
            n *= d;
        }
        return n;
    }

    /** The DL4J configuration of this architecture with the given loss, updater and seed. */
    public MultiLayerConfiguration toConfiguration(DistillationLoss loss, TrainingSettings training, long seed) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(training.updater())
                .l2(training.l2())
                .convolutionMode(ConvolutionMode.Same)
                .list();
        int i = 0;
        boolean qat = quantised();
        if (qat) {
            // The input quantiser: the int8 model takes uint8 inputs over this tracked range.
            list.layer(i++, new ActivationLayer.Builder(new QuantisedActivation(false, quantisation.emaDecay())).build());
        }
        // A layer's dropout acts on its outputs (the PyTorch convention); DL4J's dropOut acts on a layer's
        // input, so it is set on the following layer.
        double pending = 0;
        java.util.ArrayDeque<Integer> blocks = new java.util.ArrayDeque<>();   // residual blocks open here
        int nextBlock = 0;
        for (int at = 0; at < layers.size(); at++) {
            LayerSpec l = layers.get(at);
            // A layer followed by batch normalisation is folded into it for the int8 file: under
            // quantisation-aware training its output is not quantised; the batch norm's output is.
            boolean beforeBatchNorm = at + 1 < layers.size() && "batch-norm".equals(layers.get(at + 1).type());
            boolean quantiseOutput = qat && !beforeBatchNorm;
            if (l.lowRank()) {
                if (l.rankByEnergy()) {
                    throw new IllegalStateException("layer rank " + l.rank() + " is a retained-energy fraction that"
                            + " must be resolved from a trained layer first");
                }
                // U: the factor into rank r, linear and without bias; V (below) carries the bias and activation.
                DenseLayer.Builder u = new DenseLayer.Builder().nOut((int) l.rank()).hasBias(false)
                        .activation(activation("identity", qat)).weightInit(WeightInit.XAVIER);
                if (pending > 0) {
                    u.dropOut(1.0 - pending);
                }
                pending = 0;
                list.layer(i++, u.build());
            }
            org.deeplearning4j.nn.conf.layers.Layer.Builder<?> b = switch (l.type()) {
                case LayerSpec.RESIDUAL_START -> {
                    blocks.push(nextBlock);
                    yield new ResidualStart.Builder().block(nextBlock++);
                }
                case LayerSpec.RESIDUAL_ADD -> new ResidualAdd.Builder().block(blocks.pop())
                        .activation(activation(l.activation(), qat));
                case "dense" -> new DenseLayer.Builder().nOut(l.units())
                        .activation(activation(l.activation(), quantiseOutput)).weightInit(init(l.activation()));
                case "conv" -> new ConvolutionLayer.Builder(l.kernel(), l.kernel())
                        .stride(l.stride(), l.stride()).nOut(l.filters())
                        .convolutionMode("same".equals(l.padding()) ? ConvolutionMode.Same : ConvolutionMode.Truncate)
                        .activation(activation(l.activation(), quantiseOutput)).weightInit(init(l.activation()));
                case "depthwise" -> new DepthwiseConvolution2D.Builder(l.kernel(), l.kernel())
                        .stride(l.stride(), l.stride()).depthMultiplier(1)
                        .convolutionMode("same".equals(l.padding()) ? ConvolutionMode.Same : ConvolutionMode.Truncate)
                        .activation(activation(l.activation(), quantiseOutput)).weightInit(init(l.activation()));
                case "global-pool" -> new GlobalPoolingLayer.Builder(PoolingType.AVG);
                case "pool" -> new SubsamplingLayer.Builder(
                        "max".equals(l.poolKind()) ? SubsamplingLayer.PoolingType.MAX : SubsamplingLayer.PoolingType.AVG)
                        .kernelSize(l.kernel(), l.kernel()).stride(l.stride(), l.stride());
                case "batch-norm" -> new BatchNormalization.Builder();   // its activation: a layer of its own, below
                case "dropout" -> new DropoutLayer.Builder(1.0 - l.dropout());
                default -> throw new IllegalStateException("unexpected layer type " + l.type());
            };
            if (pending > 0) {
                b.dropOut(1.0 - pending);
            }
            pending = "dropout".equals(l.type()) ? 0 : l.dropout();
            list.layer(i++, b.build());
            if (separateActivation(l)) {
                list.layer(i++, new ActivationLayer.Builder(activation(l.activation(), qat)).build());
            }
        }
        OutputLayer.Builder output = new OutputLayer.Builder(loss).nOut(numClasses).activation(Activation.IDENTITY)
                .weightInit(WeightInit.XAVIER);
        if (pending > 0) {
            output.dropOut(1.0 - pending);
        }
        list.layer(i, output.build());
        if (inputShape.length == 3) {
            list.setInputType(InputType.convolutionalFlat(inputShape[1], inputShape[2], inputShape[0]));
        } else {
            list.setInputType(InputType.feedForward(featureLength()));
        }
        return list.build();
    }

    /** A freshly initialised network. */
    public MultiLayerNetwork newNetwork(DistillationLoss loss, TrainingSettings training, long seed) {
        MultiLayerNetwork net = new MultiLayerNetwork(toConfiguration(loss, training, seed));
        net.init();
        BatchNormKernel.install(net);
        return net;
    }

    /** The layer's activation; under quantisation-aware training, followed by an activation quantiser. */
    private IActivation activation(String name, boolean qat) {
        if (qat) {
            if (!QAT_ACTIVATIONS.contains(name)) {
                throw new IllegalArgumentException("quantisation-aware training supports relu and identity activations, not "
                        + name);
            }
            return new QuantisedActivation("relu".equals(name), quantisation.emaDecay());
        }
        return "relu".equals(name) ? new Relu() : activation(name).getActivationFunction();
    }

    /** Activations the int8 runtime computes (and so the ones quantisation-aware training accepts). */
    public static final java.util.Set<String> QAT_ACTIVATIONS = java.util.Set.of("relu", "identity");

    /** Layer types quantisation-aware training accepts. */
    public static final java.util.Set<String> QAT_LAYERS = java.util.Set.of("dense", "conv", "depthwise", "pool",
            "global-pool", "batch-norm", "dropout", "residual");

    private static Activation activation(String name) {
        return switch (name) {
            case "relu" -> Activation.RELU;
            case "leaky-relu" -> Activation.LEAKYRELU;
            case "elu" -> Activation.ELU;
            case "tanh" -> Activation.TANH;
            case "sigmoid" -> Activation.SIGMOID;
            case "swish" -> Activation.SWISH;
            default -> Activation.IDENTITY;
        };
    }

    private static WeightInit init(String activation) {
        return activation.contains("relu") ? WeightInit.RELU : WeightInit.XAVIER;
    }
}
