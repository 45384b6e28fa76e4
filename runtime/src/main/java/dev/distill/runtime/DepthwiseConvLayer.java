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
     * Integer accumulators of every output value, channel-major, from centred inputs (code − zero point). Per
     * channel, each kernel tap's input window is first laid out as a row of the output's size ({@code col[t][p]},
     * zero where the window hangs over the border), then {@code sum[p] += W[c][t] · col[t][p]} runs over whole
     * rows, which the JIT vectorises (as {@link ConvLayer#accumulate}); rows are padded to a multiple of
     * {@link ConvLayer#LANES} so that no scalar tail remains. The same integers as the definition, summed in
     * another order.
     */
    int[] accumulate(int[] x) {
        int plane = outHeight * outWidth;
        int padded = ConvLayer.padded(plane);
        int taps = kernelH * kernelW;
        int[][] col = new int[taps][padded];   // the cells a tap sees are the same for every channel
        int[] acc = new int[channels * plane];
        int[] sum = new int[padded];
        for (int c = 0; c < channels; c++) {
            int xBase = c * height * width;
            java.util.Arrays.fill(sum, bias[c]);
            for (int ky = 0; ky < kernelH; ky++) {
                for (int kx = 0; kx < kernelW; kx++) {
                    int w = weights[(c * kernelH + ky) * kernelW + kx];
                    if (w == 0) {
                        continue;
                    }
                    int[] to = col[ky * kernelW + kx];
                    if (ConvLayer.window(x, xBase, height, width, ky, kx, strideH, strideW, padTop, padLeft, outHeight,
                            outWidth, to)) {
                        ConvLayer.multiplyAdd(sum, to, w);
                    }
                }
            }
            System.arraycopy(sum, 0, acc, c * plane, plane);
        }
        return acc;
    }
}
