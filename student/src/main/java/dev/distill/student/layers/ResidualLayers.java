package dev.distill.student.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.List;

/**
 * The layers of a residual block's two ends. A {@code MultiLayerNetwork} runs its layers one after another
 * on one thread, forward then backward in reverse, so the two ends meet through this thread's stacks: the
 * start pushes its input, the add pops it; in the backward pass the add pushes the gradient of the sum, and
 * the start pops it and adds it to the gradient from the block's layers. Nested blocks pop in the right order
 * because the stacks are last in, first out; each entry carries its block's number, and a mismatch is an error
 * rather than a wrong sum. A pass abandoned half-way (an exception, or a forward pass stopped at a layer
 * inside a block) leaves an entry that the block's start replaces the next time it runs. The kept arrays are
 * copies outside DL4J's workspaces, which reuse their memory from layer to layer.
 */
final class ResidualLayers {
    private ResidualLayers() {
    }

    private record Entry(int block, INDArray value) {
    }

    /** Forward: the inputs of the blocks started and not yet ended on this thread. */
    private static final ThreadLocal<Deque<Entry>> SKIPS = ThreadLocal.withInitial(ArrayDeque::new);
    /** Backward: the gradients of the sums of the blocks whose start has not yet been reached. */
    private static final ThreadLocal<Deque<Entry>> GRADIENTS = ThreadLocal.withInitial(ArrayDeque::new);

    /** How many copies this thread has made and not yet freed: what {@link #heldCopies()} reports. */
    private static final ThreadLocal<int[]> HELD = ThreadLocal.withInitial(() -> new int[1]);

    private static INDArray detachedCopy(INDArray a) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray copy = a.dup(a.ordering());
            HELD.get()[0]++;
            return copy;
        }
    }

    /**
     * The copies of block inputs and gradients made on this thread and not yet freed: zero between DL4J's calls
     * ({@code fit} and {@code output} clear the layers when they end), one per block between a forward pass and
     * its backward pass (the input its add layer keeps). A diagnostic for tests: a copy made on one thread and
     * freed on another counts on both.
     */
    static int heldCopies() {
        return HELD.get()[0];
    }

    private static void push(ThreadLocal<Deque<Entry>> stack, int block, INDArray value) {
        stack.get().push(new Entry(block, detachedCopy(value)));
    }

    private static INDArray pop(ThreadLocal<Deque<Entry>> stack, int block, long[] shape, String what) {
        Deque<Entry> d = stack.get();
        Entry top = d.peek();
        if (top == null || top.block() != block) {
            throw new IllegalStateException("residual block " + block + ": " + what + " is missing (its other end did"
                    + " not run in this pass on this thread" + (top == null ? "" : "; found block " + top.block()) + ")");
        }
        d.pop();
        if (!java.util.Arrays.equals(top.value().shape(), shape)) {
            String found = java.util.Arrays.toString(top.value().shape());
            release(top.value());
            throw new IllegalStateException("residual block " + block + ": " + what + " has shape " + found
                    + ", the block's output " + java.util.Arrays.toString(shape)
                    + "; the block's layers must keep its input's shape");
        }
        return top.value();
    }

    /**
     * Frees a copy made by {@link #detachedCopy} once nothing reads it. These copies live outside workspaces, so
     * otherwise their memory waits for a garbage collection: two copies of the block's map per training step
     * (1.6 MB each for the MobileNet example's block at batch 128).
     */
    private static void release(INDArray copy) {
        if (copy != null && copy.closeable()) {
            copy.close();
            HELD.get()[0]--;
        }
    }

    /** Drops (and frees) what this thread still holds for {@code block} from an abandoned pass. */
    private static void forget(int block) {
        for (Deque<Entry> d : List.of(SKIPS.get(), GRADIENTS.get())) {
            d.removeIf(e -> {
                if (e.block() != block) {
                    return false;
                }
                release(e.value());
                return true;
            });
        }
    }

    static <L extends AbstractLayer<?>> L wire(L layer, ResidualEnd conf,
                                                NeuralNetConfiguration nnc, Collection<TrainingListener> listeners,
                                                int index, INDArray paramsView, boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(conf.initializer().init(nnc, paramsView, initializeParams));
        layer.setConf(nnc);
        return layer;
    }

    /** What both ends' layers share: no parameters, nothing to pretrain or perturb. */
    private abstract static class End<C extends ResidualEnd> extends AbstractLayer<C> {
        End(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        int block() {
            return layerConf().getBlock();
        }

        @Override
        public boolean isPretrainLayer() {
            return false;
        }

        @Override
        public void clearNoiseWeightParams() {
        }

        @Override
        public INDArray params() {
            return null;
        }
    }

    /** {@link ResidualStart}'s layer. */
    static final class Start extends End<ResidualStart> {
        Start(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            applyDropOutIfNecessary(training, mgr);
            int block = block();
            forget(block);
            push(SKIPS, block, input);
            return mgr.dup(ArrayType.ACTIVATIONS, input, input.ordering());
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            assertInputSet(true);
            INDArray skip = pop(GRADIENTS, block(), epsilon.shape(), "the gradient of its sum");
            INDArray delta;
            try {
                delta = mgr.dup(ArrayType.ACTIVATION_GRAD, epsilon, epsilon.ordering());
                delta.addi(skip);
            } finally {
                release(skip);
            }
            delta = backpropDropOutIfPresent(delta);
            return new Pair<>(new DefaultGradient(), delta);
        }

    }

    /** {@link ResidualAdd}'s layer. */
    static final class Add extends End<ResidualAdd> {
        /** The block's input, added to this layer's input (kept for the backward pass). */
        private INDArray skip;

        Add(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        private INDArray sum(LayerWorkspaceMgr mgr, ArrayType type) {
            INDArray s = mgr.createUninitialized(type, input.dataType(), input.shape(), input.ordering());
            return s.assign(input).addi(skip);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            applyDropOutIfNecessary(training, mgr);
            INDArray previous = skip;
            skip = pop(SKIPS, block(), input.shape(), "the block's input");
            release(previous);
            return layerConf().getActivationFn().getActivation(sum(mgr, ArrayType.ACTIVATIONS), training);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            assertInputSet(true);
            if (skip == null) {
                throw new IllegalStateException("residual block " + block() + ": backward pass before"
                        + " a forward pass");
            }
            INDArray delta = layerConf().getActivationFn().backprop(sum(mgr, ArrayType.ACTIVATION_GRAD), epsilon).getFirst();
            if (delta == epsilon) {
                delta = mgr.dup(ArrayType.ACTIVATION_GRAD, delta);
            }
            delta = mgr.leverageTo(ArrayType.ACTIVATION_GRAD, delta);
            push(GRADIENTS, block(), delta);
            delta = backpropDropOutIfPresent(delta);
            return new Pair<>(new DefaultGradient(), delta);
        }

        @Override
        public void clear() {
            super.clear();
            release(skip);
            skip = null;
        }

    }
}
