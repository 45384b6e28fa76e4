package dev.distill.datasets.augment;

/**
 * One augmented view of an image, described by five numbers: the box of the source image it shows
 * ({@code x}, {@code y} of its top-left corner and its {@code width}, {@code height}, in source pixels; the box
 * may reach outside the image, whose surroundings are 0) and whether it is mirrored left to right. The view
 * is the box resampled to the image's own size (bilinear), then flipped; {@link #render} does it the same
 * way, bit for bit, wherever it runs, so a view is stored as these numbers and never as pixels.
 *
 * @param x      left edge of the box, in source columns (may be negative: padding)
 * @param y      top edge of the box, in source rows
 * @param width  box width in source columns (> 0)
 * @param height box height in source rows (> 0)
 * @param flip   mirror the view left to right
 */
public record View(int x, int y, int width, int height, boolean flip) implements java.io.Serializable {
    public View {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("a view's box must have a positive size, not " + width + "x" + height);
        }
    }

    /** How many numbers describe a view: x, y, width, height, flip (0 or 1). */
    public static final int NUMBERS = 5;

    /** Writes this view's {@value #NUMBERS} numbers into {@code dst} at {@code offset}. */
    public void encode(int[] dst, int offset) {
        dst[offset] = x;
        dst[offset + 1] = y;
        dst[offset + 2] = width;
        dst[offset + 3] = height;
        dst[offset + 4] = flip ? 1 : 0;
    }

    /** The view of {@value #NUMBERS} numbers at {@code src[offset]}, as {@link #encode} wrote them. */
    public static View decode(int[] src, int offset) {
        return new View(src[offset], src[offset + 1], src[offset + 2], src[offset + 3], src[offset + 4] != 0);
    }

    /** The image itself: the whole of an {@code h}×{@code w} image, not mirrored. */
    public static View identity(int h, int w) {
        return new View(0, 0, w, h, false);
    }

    /** True when this view of an {@code h}×{@code w} image is the image itself. */
    public boolean isIdentity(int h, int w) {
        return x == 0 && y == 0 && width == w && height == h && !flip;
    }

    /**
     * Renders this view of {@code src} (channels × {@code h} × {@code w}, row-major, starting at {@code srcOff})
     * into {@code dst} at {@code dstOff}, the same shape. Output pixel (i, j) samples the source at
     * {@code (y + (i + 0.5)·height/h − 0.5, x + (j' + 0.5)·width/w − 0.5)}, with {@code j' = w − 1 − j} when
     * flipped, by bilinear interpolation between the four neighbouring pixels, the sampling point held inside
     * the image (edge pixels repeat, as in PyTorch's {@code interpolate}). Unlike torchvision, which cuts the
     * box out before resizing it, the outermost output pixels blend in the image's pixels just outside the box
     * (up to half a source pixel), rather than repeating the box's edge. A box of the image's own size is a
     * shift instead: whole pixels copied, 0 where the box leaves the image (padding).
     */
    public void render(float[] src, int srcOff, int channels, int h, int w, float[] dst, int dstOff) {
        if (isIdentity(h, w)) {
            System.arraycopy(src, srcOff, dst, dstOff, channels * h * w);
            return;
        }
        boolean sameSize = width == w && height == h;
        double sy = (double) height / h;
        double sx = (double) width / w;
        for (int c = 0; c < channels; c++) {
            int plane = srcOff + c * h * w;
            int out = dstOff + c * h * w;
            for (int i = 0; i < h; i++) {
                if (sameSize) {
                    // A shift: whole pixels, copied (0 where the box leaves the image).
                    int r = y + i;
                    for (int j = 0; j < w; j++) {
                        int col = x + (flip ? w - 1 - j : j);
                        dst[out + i * w + j] = r >= 0 && r < h && col >= 0 && col < w ? src[plane + r * w + col] : 0f;
                    }
                    continue;
                }
                double fy = Math.min(Math.max(y + (i + 0.5) * sy - 0.5, 0), h - 1);
                int r0 = (int) fy;
                int r1 = Math.min(r0 + 1, h - 1);
                float wy = (float) (fy - r0);
                for (int j = 0; j < w; j++) {
                    double fx = Math.min(Math.max(x + ((flip ? w - 1 - j : j) + 0.5) * sx - 0.5, 0), w - 1);
                    int c0 = (int) fx;
                    int c1 = Math.min(c0 + 1, w - 1);
                    float wx = (float) (fx - c0);
                    float top = (1 - wx) * src[plane + r0 * w + c0] + wx * src[plane + r0 * w + c1];
                    float bottom = (1 - wx) * src[plane + r1 * w + c0] + wx * src[plane + r1 * w + c1];
                    dst[out + i * w + j] = (1 - wy) * top + wy * bottom;
                }
            }
        }
    }

}
