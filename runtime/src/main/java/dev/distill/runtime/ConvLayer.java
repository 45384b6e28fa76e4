package dev.distill.runtime;

/**
 * A quantised 2-D convolution over a channel-major feature map [channels, height, width]: output channel f
 * at (y, x) is {@code act(Σ_{c,ky,kx} W[f][c][ky][kx] · in[c][y·strideH − padTop + ky][x·strideW − padLeft + kx]
 * + b[f])}, where positions outside the input count as zero (the zero point). Weights are symmetric int8 per
 * output channel, {@code weights[((f·channels + c)·kernelH + ky)·kernelW + kx]}, with {@code
 * weightScales[f]}; the int32 bias is in units of input scale · weightScales[f]; the output is requantised
 * to uint8 with (outputScale, outputZeroPoint). Output size: {@code outHeight} by {@code outWidth}, as
 * stored (the padding at the bottom and right is whatever makes that fit).
 */
public record ConvLayer(int channels, int height, int width, int filters, int kernelH, int kernelW, int strideH,
                        int strideW, int padTop, int padLeft, int outHeight, int outWidth,
                        DenseLayer.Activation activation, float[] weightScales, byte[] weights, int[] bias,
                        float outputScale, int outputZeroPoint) implements Layer {

    public ConvLayer {
        check(channels, height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, outHeight, outWidth);
        if (filters <= 0 || weightScales.length != filters || bias.length != filters
                || weights.length != (long) filters * channels * kernelH * kernelW) {
            throw new IllegalArgumentException("convolution " + channels + "->" + filters + " with a " + kernelH + "x"
                    + kernelW + " kernel has " + weightScales.length + " scales, " + weights.length + " weights and "
                    + bias.length + " biases");
        }
    }

    /** Checks the geometry shared by convolution and pooling; every window starts inside the padded input. */
    static void check(int channels, int height, int width, int kernelH, int kernelW, int strideH, int strideW,
                      int padTop, int padLeft, int outHeight, int outWidth) {
        if (channels <= 0 || height <= 0 || width <= 0 || kernelH <= 0 || kernelW <= 0 || strideH <= 0 || strideW <= 0
                || padTop < 0 || padLeft < 0 || padTop >= kernelH || padLeft >= kernelW || outHeight <= 0 || outWidth <= 0
                || (long) (outHeight - 1) * strideH - padTop >= height || (long) (outWidth - 1) * strideW - padLeft >= width) {
            throw new IllegalArgumentException("window geometry " + channels + "x" + height + "x" + width + ", kernel "
                    + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW + ", padding " + padTop + "/"
                    + padLeft + ", output " + outHeight + "x" + outWidth + " is impossible");
        }
    }

    @Override
    public int inputSize() {
        return channels * height * width;
    }

    @Override
    public int outputSize() {
        return filters * outHeight * outWidth;
    }

    @Override
    public long parameters() {
        return (long) weights.length + filters;
    }

    /**
     * Integer accumulators of every output value, channel-major, from centred inputs (code − zero point).
     * Loops run weight by weight over whole output rows (the valid column range computed once per kernel
     * column), so the innermost loop is branch-free; zero weights (pruned) are skipped.
     */
    int[] accumulate(int[] x) {
        int[] acc = new int[outputSize()];
        int plane = outHeight * outWidth;
        for (int f = 0; f < filters; f++) {
            java.util.Arrays.fill(acc, f * plane, (f + 1) * plane, bias[f]);
            for (int c = 0; c < channels; c++) {
                int xBase = c * height * width;
                for (int ky = 0; ky < kernelH; ky++) {
                    for (int kx = 0; kx < kernelW; kx++) {
                        int w = weights[((f * channels + c) * kernelH + ky) * kernelW + kx];
                        if (w == 0) {
                            continue;
                        }
                        // Output columns whose input column ox·strideW − padLeft + kx lies in [0, width).
                        int first = Math.max(0, ceilDiv(padLeft - kx, strideW));
                        int last = Math.min(outWidth - 1, Math.floorDiv(width - 1 + padLeft - kx, strideW));
                        for (int oy = 0; oy < outHeight; oy++) {
                            int iy = oy * strideH - padTop + ky;
                            if (iy < 0 || iy >= height) {
                                continue;
                            }
                            int row = xBase + iy * width - padLeft + kx;
                            int out = f * plane + oy * outWidth;
                            for (int ox = first; ox <= last; ox++) {
                                acc[out + ox] += w * x[row + ox * strideW];
                            }
                        }
                    }
                }
            }
        }
        return acc;
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }
}
