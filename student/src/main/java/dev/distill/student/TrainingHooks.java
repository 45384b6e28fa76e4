package dev.distill.student;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

import java.io.Serializable;

/**
 * What a compression method does inside {@link ParameterAveragingTrainer}: work around each minibatch step
 * on a worker, and state that is averaged across workers with the parameters (weighted by examples).
 * Steps count minibatches per worker from the start of training, the same on every worker.
 */
public interface TrainingHooks extends Serializable {
    /** On a worker, before {@code fit} of minibatch {@code step}. */
    void beforeStep(MultiLayerNetwork net, long step);

    /** On a worker, after {@code fit} of minibatch {@code step}. */
    void afterStep(MultiLayerNetwork net, long step);

    /** State to average across workers, read from {@code net}; the same length for every network. */
    float[] state(MultiLayerNetwork net);

    /** Puts averaged state into {@code net} (a worker's at the start of a round, or the driver's). */
    void setState(MultiLayerNetwork net, float[] state);

    /** Makes the driver's {@code net} as the workers' would be at {@code step} (after an epoch). */
    void sync(MultiLayerNetwork net, long step);

    /** On a worker, after the round's parameters and state are loaded, before its first step {@code step}. */
    default void startRound(MultiLayerNetwork net, long step) {
    }

    /**
     * {@code outer} around {@code inner}: {@code outer} starts rounds and steps first and finishes steps last
     * (so pruning masks are applied after quantisation-aware training restores its float weights). Either
     * may be null; the state is the two states one after the other.
     */
    static TrainingHooks compose(TrainingHooks outer, TrainingHooks inner) {
        if (outer == null) {
            return inner;
        }
        if (inner == null) {
            return outer;
        }
        return new TrainingHooks() {
            @Override
            public void beforeStep(MultiLayerNetwork net, long step) {
                outer.beforeStep(net, step);
                inner.beforeStep(net, step);
            }

            @Override
            public void afterStep(MultiLayerNetwork net, long step) {
                inner.afterStep(net, step);
                outer.afterStep(net, step);
            }

            @Override
            public float[] state(MultiLayerNetwork net) {
                float[] a = outer.state(net);
                float[] b = inner.state(net);
                float[] s = java.util.Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, s, a.length, b.length);
                return s;
            }

            @Override
            public void setState(MultiLayerNetwork net, float[] state) {
                int n = outer.state(net).length;
                outer.setState(net, java.util.Arrays.copyOfRange(state, 0, n));
                inner.setState(net, java.util.Arrays.copyOfRange(state, n, state.length));
            }

            @Override
            public void sync(MultiLayerNetwork net, long step) {
                outer.sync(net, step);
                inner.sync(net, step);
            }

            @Override
            public void startRound(MultiLayerNetwork net, long step) {
                outer.startRound(net, step);
                inner.startRound(net, step);
            }

            @Override
            public String toString() {
                return outer + " around " + inner;
            }
        };
    }
}
