package dev.distill.runtime;

/**
 * The end of a residual block: the sum of this layer's input and the input of layer {@code start} (the
 * block's first layer; {@code start} may equal this layer's own index for an empty block), both of {@code
 * size} values, then the activation, requantised to uint8: {@code quantize(act(s_x·(x − z_x) + s_k·(k − z_k)),
 * outputScale, outputZeroPoint)}, computed in float as ONNX Runtime's QLinearAdd computes it.
 */
public record ResidualAddLayer(int size, int start, DenseLayer.Activation activation, float outputScale,
                               int outputZeroPoint) implements Layer {

    public ResidualAddLayer {
        if (size < 1 || start < 0) {
            throw new IllegalArgumentException("a residual add needs size >= 1 and a start layer >= 0, got " + size
                    + " and " + start);
        }
        if (activation == null) {
            throw new IllegalArgumentException("a residual add needs an activation");
        }
    }

    @Override
    public int inputSize() {
        return size;
    }

    @Override
    public int outputSize() {
        return size;
    }

    @Override
    public long parameters() {
        return 0;
    }

    /**
     * {@code x} at (scale, zero) plus {@code skip} at (skipScale, skipZero), as codes at this layer's output: the
     * codes {@link Int8Model#quantize} gives the activation of the real sum. With scales whose products with a
     * code difference stay finite (every file's), the sum is never NaN and the codes come from {@link
     * Int8Model#codes}, the SIMD rounding of requantisation; otherwise value by value from quantize itself.
     */
    int[] add(int[] x, float scale, int zero, int[] skip, float skipScale, int skipZero) {
        return add(x, scale, zero, skip, skipScale, skipZero, new float[size]);
    }

    /** {@link #add(int[], float, int, int[], float, int)} with working space {@code reals} of {@link #size}. */
    int[] add(int[] x, float scale, int zero, int[] skip, float skipScale, int skipZero, float[] reals) {
        int[] out = new int[size];
        boolean relu = activation == DenseLayer.Activation.RELU;
        for (int i = 0; i < size; i++) {
            reals[i] = scale * (x[i] - zero) + skipScale * (skip[i] - skipZero);
        }
        if (Float.isFinite(255f * scale) && Float.isFinite(255f * skipScale) && outputScale > 0
                && Float.isFinite(outputScale)) {
            Int8Model.codes(reals, outputScale, relu, outputZeroPoint, out);
        } else {
            for (int i = 0; i < size; i++) {
                out[i] = Int8Model.quantize(relu && reals[i] < 0 ? 0 : reals[i], outputScale, outputZeroPoint);
            }
        }
        return out;
    }
}
