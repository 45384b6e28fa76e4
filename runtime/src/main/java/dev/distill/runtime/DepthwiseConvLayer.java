package dev.distill.runtime;

/**
 * A quantised depthwise 2-D convolution (one filter per channel, as in MobileNet's depthwise-separable
 * blocks) over a channel-major feature map [channels, height, width]: channel c at (y, x) is {@code
 * act(Σ_{ky,kx} W[c][ky][kx] · in[c][y·strideH − padTop + ky][x·strideW − padLeft + kx] + b[c])}, positions
 * outside the input counting as zero (the zero point). Weights are symmetric int8 per channel, {@code
 * weights[(c·kernelH + ky)·kernelW + kx]} with {@code weightScales[c]}; the int32 bias is in units of input
 * scale · weightScales[c]; the output is requantised to uint8 with (outputScale, outputZeroPoint).
 */
public record DepthwiseConvLayer(int channels, int height, int width, int kernelH, int kernelW, int strideH,
                                 int strideW, int padTop, int padLeft, int outHeight, int outWidth,
                                 DenseLayer.Activation activation, float[] weightScales, byte[] weights, int[] bias,
                                 float outputScale, int outputZeroPoint) implements Layer {

    public DepthwiseConvLayer {
        ConvLayer.check(channels, height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, outHeight, outWidth);
        if (weightScales.length != channels || bias.length != channels
                || weights.length != (long) channels * kernelH * kernelW) {
            throw new IllegalArgumentException("depthwise convolution of " + channels + " channels with a " + kernelH
                    + "x" + kernelW + " kernel has " + weightScales.length + " scales, " + weights.length + " weights and "
                    + bias.length + " biases");
        }
    }

    @Override
    public int inputSize() {
        return channels * height * width;
    }

    @Override
    public int outputSize() {
        return channels * outHeight * outWidth;
    }

    @Override
    public long parameters() {
        return (long) weights.length + channels;
    }

    /**
     * Integer accumulators of every output value, channel-major, from centred inputs (code − zero point): per
     * channel, the rows of its patch matrix (one per kernel tap, see {@link Patches}), summed three at a time
     * with the channel's weights (taps with zero weights skipped). The same integers as the definition, summed
     * in another order.
     */
    int[] accumulate(int[] x) {
        return accumulate(x, new Scratch(1), 0);
    }

    /** {@link #accumulate(int[])} in the working arrays of {@code scratch}'s slots for {@code layer}. */
    int[] accumulate(int[] x, Scratch scratch, int layer) {
        Patches patches = new Patches(height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, outHeight,
                outWidth, scratch, layer);
        int taps = kernelH * kernelW;
        int[][] rows = scratch.rows(layer, Scratch.PATCH_ROWS, taps, patches.length);
        int[] sum = scratch.rows(layer, Scratch.SUMS, 1, patches.length)[0];
        int plane = outHeight * outWidth;
        int[] acc = scratch.ints(layer, Scratch.ACCUMULATORS, channels * plane);
        for (int c = 0; c < channels; c++) {
            patches.fill(x, c * height * width, rows, 0);
            java.util.Arrays.fill(sum, bias[c]);
            int base = c * taps;
            int t = 0;
            for (; t + 3 <= taps; t += 3) {
                int w0 = weights[base + t];
                int w1 = weights[base + t + 1];
                int w2 = weights[base + t + 2];
                if ((w0 | w1 | w2) != 0) {
                    Patches.multiplyAdd3(sum, rows[t], rows[t + 1], rows[t + 2], w0, w1, w2);
                }
            }
            for (; t < taps; t++) {
                if (weights[base + t] != 0) {
                    Patches.multiplyAdd(sum, rows[t], weights[base + t]);
                }
            }
            patches.extract(sum, acc, c * plane);
        }
        return acc;
    }
}
