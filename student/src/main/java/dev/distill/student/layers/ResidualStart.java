package dev.distill.student.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * The start of residual block {@code block}: passes its input on unchanged and keeps it for the {@link
 * ResidualAdd} of the same block, which adds it to the block's output. In the backward pass it adds the
 * gradient that flowed through the skip connection to the one that flowed through the block's layers.
 */
public class ResidualStart extends ResidualEnd {

    /** For JSON deserialisation. */
    public ResidualStart() {
    }

    private ResidualStart(Builder b) {
        super(b, b.block);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int index,
                             INDArray paramsView, boolean initializeParams, DataType dataType) {
        ResidualLayers.Start layer = new ResidualLayers.Start(conf, dataType);
        return ResidualLayers.wire(layer, this, conf, listeners, index, paramsView, initializeParams);
    }

    /** Builds a {@link ResidualStart}. */
    public static class Builder extends org.deeplearning4j.nn.conf.layers.Layer.Builder<Builder> {
        private int block;

        /** The block's number, shared with its {@link ResidualAdd}. */
        public Builder block(int b) {
            this.block = b;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public ResidualStart build() {
            return new ResidualStart(this);
        }
    }
}
