package dev.distill.student.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * The end of residual block {@code block}: {@code activation(x + s)}, where x is this layer's input (the
 * output of the block's layers) and s the input of the block's {@link ResidualStart}.
 */
public class ResidualAdd extends ResidualEnd {
    private IActivation activationFn = new ActivationIdentity();

    /** For JSON deserialisation. */
    public ResidualAdd() {
    }

    private ResidualAdd(Builder b) {
        super(b, b.block);
        this.activationFn = b.activationFn;
    }

    public IActivation getActivationFn() {
        return activationFn;
    }

    public void setActivationFn(IActivation activationFn) {
        this.activationFn = activationFn;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int index,
                             INDArray paramsView, boolean initializeParams, DataType dataType) {
        ResidualLayers.Add layer = new ResidualLayers.Add(conf, dataType);
        return ResidualLayers.wire(layer, this, conf, listeners, index, paramsView, initializeParams);
    }

    @Override
    public ResidualAdd clone() {
        ResidualAdd c = (ResidualAdd) super.clone();
        c.activationFn = activationFn;   // DL4J's layer configurations share their activation objects on clone
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return super.equals(o) && java.util.Objects.equals(((ResidualAdd) o).activationFn, activationFn);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + java.util.Objects.hashCode(activationFn);
    }

    /** Builds a {@link ResidualAdd}. */
    public static class Builder extends org.deeplearning4j.nn.conf.layers.Layer.Builder<Builder> {
        private int block;
        private IActivation activationFn = new ActivationIdentity();

        /** The block's number, shared with its {@link ResidualStart}. */
        public Builder block(int b) {
            this.block = b;
            return this;
        }

        /** Applied to the sum. */
        public Builder activation(IActivation fn) {
            this.activationFn = fn;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public ResidualAdd build() {
            return new ResidualAdd(this);
        }
    }
}
