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
     * Integer accumulators of every output value, channel-major, from centred inputs (code − zero point): for
     * each channel and kernel position, the weight times the input row segment that position sees, added into
     * the output row (the same integers as the definition, summed in another order).
     */
    int[] accumulate(int[] x) {
        int plane = outHeight * outWidth;
        int[] acc = new int[channels * plane];
        for (int c = 0; c < channels; c++) {
            int xBase = c * height * width;
            int aBase = c * plane;
            java.util.Arrays.fill(acc, aBase, aBase + plane, bias[c]);
            for (int ky = 0; ky < kernelH; ky++) {
                for (int kx = 0; kx < kernelW; kx++) {
                    int w = weights[(c * kernelH + ky) * kernelW + kx];
                    if (w == 0) {
                        continue;
                    }
                    int first = Math.max(0, -Math.floorDiv(kx - padLeft, strideW));
                    int last = Math.min(outWidth - 1, Math.floorDiv(width - 1 + padLeft - kx, strideW));
                    for (int oy = 0; oy < outHeight; oy++) {
                        int iy = oy * strideH - padTop + ky;
                        if (iy < 0 || iy >= height) {
                            continue;
                        }
                        int row = xBase + iy * width - padLeft + kx;
                        int out = aBase + oy * outWidth;
                        for (int ox = first; ox <= last; ox++) {
                            acc[out + ox] += w * x[row + ox * strideW];
                        }
                    }
                }
            }
        }
        return acc;
    }
}
