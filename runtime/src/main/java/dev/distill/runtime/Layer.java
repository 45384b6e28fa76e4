package dev.distill.runtime;

/**
 * A layer of an {@link Int8Model}: dense, 2-D convolution, depthwise 2-D convolution, 2-D max pooling, 2-D
 * average pooling, or the add at the end of a residual block.
 */
public sealed interface Layer permits DenseLayer, ConvLayer, DepthwiseConvLayer, MaxPoolLayer, AvgPoolLayer,
        ResidualAddLayer {
    /** Values the layer takes (a feature map counts channels · height · width, channel-major). */
    int inputSize();

    /** Values the layer gives. */
    int outputSize();

    /** Weights and biases. */
    long parameters();
}
