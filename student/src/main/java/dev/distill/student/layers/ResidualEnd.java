package dev.distill.student.layers;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.NoParamLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;

/** What both ends of residual block {@code block} share: no parameters, output shaped as the input. */
public abstract class ResidualEnd extends NoParamLayer {
    private int block;

    /** For JSON deserialisation. */
    protected ResidualEnd() {
    }

    protected ResidualEnd(org.deeplearning4j.nn.conf.layers.Layer.Builder<?> b, int block) {
        super(b);
        this.block = block;
    }

    public int getBlock() {
        return block;
    }

    public void setBlock(int block) {
        this.block = block;
    }

    /**
     * A flattened image ({@code convolutionalFlat} input) becomes a feature map here, as it would at a
     * convolution: the block's input must have the shape of its output, which is a map.
     */
    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (inputType == null) {
            throw new IllegalStateException("invalid input type: null for layer \"" + getLayerName() + "\"");
        }
        if (inputType instanceof InputType.InputTypeConvolutionalFlat f) {
            return f.getUnflattenedType();
        }
        return inputType;
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        if (inputType instanceof InputType.InputTypeConvolutionalFlat f) {
            return new FeedForwardToCnnPreProcessor(f.getHeight(), f.getWidth(), f.getDepth());
        }
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        long perExample = inputType.arrayElementsPerExample();
        return new LayerMemoryReport.Builder(getLayerName(), getClass(), inputType, inputType)
                .standardMemory(0, 0)
                .workingMemory(0, 0, perExample, perExample)   // the kept input or gradient
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && super.equals(o) && ((ResidualEnd) o).block == block;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + block;
    }
}
