package dev.distill.runtime;

/**
 * 2-D max pooling over a channel-major feature map, on the uint8 codes themselves (quantisation is
 * monotonic, so the largest code is the code of the largest value); positions in the padding are ignored.
 * Scale and zero point pass through unchanged.
 */
public record MaxPoolLayer(int channels, int height, int width, int kernelH, int kernelW, int strideH, int strideW,
                           int padTop, int padLeft, int outHeight, int outWidth) implements Layer {

    public MaxPoolLayer {
        ConvLayer.check(channels, height, width, kernelH, kernelW, strideH, strideW, padTop, padLeft, outHeight, outWidth);
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

    int[] pool(int[] q) {
        if (padTop == 0 && padLeft == 0 && kernelH == 2 && kernelW == 2 && strideH == 2 && strideW == 2) {
            return pool2x2(q);
        }
        int[] out = new int[outputSize()];
        for (int c = 0; c < channels; c++) {
            for (int oy = 0; oy < outHeight; oy++) {
                for (int ox = 0; ox < outWidth; ox++) {
                    int best = -1;
                    for (int ky = 0; ky < kernelH; ky++) {
                        int iy = oy * strideH - padTop + ky;
                        if (iy < 0 || iy >= height) {
                            continue;
                        }
                        for (int kx = 0; kx < kernelW; kx++) {
                            int ix = ox * strideW - padLeft + kx;
                            if (ix >= 0 && ix < width) {
                                best = Math.max(best, q[(c * height + iy) * width + ix]);
                            }
                        }
                    }
                    out[(c * outHeight + oy) * outWidth + ox] = best;
                }
            }
        }
        return out;
    }

    /**
     * The common 2×2 window with stride 2 and no padding, without the general loop's per-position checks:
     * every window starts inside the input (the constructor's geometry check), and only the last column or
     * row of an odd width or height can hang over its edge.
     */
    private int[] pool2x2(int[] q) {
        int[] out = new int[outputSize()];
        for (int c = 0; c < channels; c++) {
            for (int oy = 0; oy < outHeight; oy++) {
                int top = (c * height + 2 * oy) * width;
                int bottom = top + width;
                boolean lastRow = 2 * oy + 1 >= height;   // an odd height: the last window is one row
                int o = (c * outHeight + oy) * outWidth;
                for (int ox = 0; ox < outWidth; ox++) {
                    int x = 2 * ox;
                    int m = q[top + x];
                    if (x + 1 < width) {
                        m = Math.max(m, q[top + x + 1]);
                    }
                    if (!lastRow) {
                        m = Math.max(m, q[bottom + x]);
                        if (x + 1 < width) {
                            m = Math.max(m, q[bottom + x + 1]);
                        }
                    }
                    out[o + ox] = m;
                }
            }
        }
        return out;
    }
}
