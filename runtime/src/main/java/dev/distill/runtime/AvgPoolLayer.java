package dev.distill.runtime;

/**
 * 2-D average pooling over a channel-major feature map, every window inside the input (no padding): each
 * output code is the window's mean code rounded half to even, {@code z + rint(Σ (q − z) / (kernelH·kernelW))},
 * which is the uint8 code of the mean real value at the same (scale, zero point), so scale and zero point
 * pass through unchanged. Global average pooling is the window of the whole map (output 1×1).
 */
public record AvgPoolLayer(int channels, int height, int width, int kernelH, int kernelW, int strideH, int strideW,
                           int outHeight, int outWidth) implements Layer {

    public AvgPoolLayer {
        ConvLayer.check(channels, height, width, kernelH, kernelW, strideH, strideW, 0, 0, outHeight, outWidth);
        if ((long) (outHeight - 1) * strideH + kernelH > height || (long) (outWidth - 1) * strideW + kernelW > width) {
            throw new IllegalArgumentException("average pooling " + kernelH + "x" + kernelW + " with stride " + strideH
                    + "x" + strideW + " to " + outHeight + "x" + outWidth + " reaches outside the " + height + "x" + width
                    + " input; every window must lie inside it");
        }
    }

    /** Global average pooling of a {@code channels × height × width} map. */
    public static AvgPoolLayer global(int channels, int height, int width) {
        return new AvgPoolLayer(channels, height, width, height, width, height, width, 1, 1);
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
        return 0;
    }

    int[] pool(int[] q, int zeroPoint) {
        int[] out = new int[outputSize()];
        double count = kernelH * kernelW;
        for (int c = 0; c < channels; c++) {
            for (int oy = 0; oy < outHeight; oy++) {
                for (int ox = 0; ox < outWidth; ox++) {
                    long sum = 0;
                    for (int ky = 0; ky < kernelH; ky++) {
                        int row = (c * height + oy * strideH + ky) * width + ox * strideW;
                        for (int kx = 0; kx < kernelW; kx++) {
                            sum += q[row + kx] - zeroPoint;
                        }
                    }
                    int code = zeroPoint + (int) Math.rint(sum / count);
                    out[(c * outHeight + oy) * outWidth + ox] = Math.max(0, Math.min(255, code));
                }
            }
        }
        return out;
    }
}
