package dev.distill.student.spark;

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
}
