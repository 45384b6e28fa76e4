package dev.distill.runtime;

/**
 * The rows of a channel's patch matrix (im2col) for one window geometry: for kernel tap t = ky·kernelW + kx,
 * row t holds the centred input value that tap sees at every output position, zero where the window hangs
 * over the border (the zero point, once centred). A convolution is then a sum of whole rows times weights,
 * which the JIT turns into SIMD multiply-adds: each row is an array of its own, indexed from 0 (with rows
 * at offsets into one array, or a row read at an offset, it does not vectorise; measured 3-6 times slower).
 *
 * <p>Rows are laid out one of three ways, by geometry:
 * <ul>
 *   <li><b>1×1, stride 1, no padding</b>: row 0 is the channel's plane itself ({@link #rowWidth} = outWidth).
 *   <li><b>stride 1</b>: the channel is copied once into a zero-bordered plane {@link #rowWidth} wide (at
 *       least outWidth + kernelW − 1), and tap (ky, kx)'s row is that plane from (ky, kx) on, one copy of
 *       outHeight·rowWidth values. Output (oy, ox) is then at oy·rowWidth + ox of every row; the columns past
 *       outWidth hold sums of other windows, which {@link #extract} leaves behind. Few long copies instead
 *       of one short copy per tap and output row (3-4 times faster on the 7- and 14-wide maps of the
 *       students here).
 *   <li><b>other strides</b>: one gather per tap and output row, {@link #rowWidth} = outWidth.
 * </ul>
 * A row takes {@link #length} ints; the rows are the caller's, reused across channels and calls.
 */
final class Patches {
    private final int height;
    private final int width;
    private final int kernelH;
    private final int kernelW;
    private final int strideH;
    private final int strideW;
    private final int padTop;
    private final int padLeft;
    private final int outHeight;
    private final int outWidth;
    /** Values from one output row to the next within a row of the patch matrix. */
    final int rowWidth;
    /** Ints in each row of the patch matrix: outHeight · rowWidth. */
    final int length;
    private final Layout layout;
    /** The zero-bordered plane of the stride-1 layout (its border stays zero across channels), else null. */
    private final int[] padded;

    private enum Layout { PLANE, PADDED, GATHER }

    /** The patch rows of one geometry; the stride-1 plane comes from {@code scratch}'s slot (layer, PADDED). */
    Patches(int height, int width, int kernelH, int kernelW, int strideH, int strideW, int padTop, int padLeft,
            int outHeight, int outWidth, Scratch scratch, int layer) {
        this.height = height;
        this.width = width;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.strideH = strideH;
        this.strideW = strideW;
        this.padTop = padTop;
        this.padLeft = padLeft;
        this.outHeight = outHeight;
        this.outWidth = outWidth;
        if (kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0
                && outHeight == height && outWidth == width) {
            layout = Layout.PLANE;
            rowWidth = outWidth;
            padded = null;
        } else if (strideH == 1 && strideW == 1) {
            layout = Layout.PADDED;
            rowWidth = Math.max(padLeft + width, outWidth + kernelW - 1);
            int rows = Math.max(padTop + height, outHeight + kernelH - 1);
            // The last tap's row starts at (kernelH − 1)·rowWidth + kernelW − 1 and runs outHeight·rowWidth on.
            padded = scratch.ints(layer, Scratch.PADDED, rows * rowWidth + kernelW);
        } else {
            layout = Layout.GATHER;
            rowWidth = outWidth;
            padded = null;
        }
        length = outHeight * rowWidth;
    }

    /**
     * Writes the kernelH·kernelW rows of the channel starting at {@code xBase} in {@code x} into {@code
     * rows[first ...]}. Rows passed again for another channel are overwritten where that channel's values go;
     * the cells that stay untouched are the same for every channel (zero in fresh rows).
     */
    void fill(int[] x, int xBase, int[][] rows, int first) {
        switch (layout) {
            case PLANE -> System.arraycopy(x, xBase, rows[first], 0, length);
            case PADDED -> {
                for (int y = 0; y < height; y++) {
                    System.arraycopy(x, xBase + y * width, padded, (padTop + y) * rowWidth + padLeft, width);
                }
                for (int ky = 0; ky < kernelH; ky++) {
                    for (int kx = 0; kx < kernelW; kx++) {
                        System.arraycopy(padded, ky * rowWidth + kx, rows[first + ky * kernelW + kx], 0, length);
                    }
                }
            }
            case GATHER -> {
                for (int ky = 0; ky < kernelH; ky++) {
                    for (int kx = 0; kx < kernelW; kx++) {
                        gather(x, xBase, ky, kx, rows[first + ky * kernelW + kx]);
                    }
                }
            }
        }
    }

    /** Copies the outHeight × outWidth outputs out of a row-shaped {@code sum} into {@code acc} at {@code at}. */
    void extract(int[] sum, int[] acc, int at) {
        if (rowWidth == outWidth) {
            System.arraycopy(sum, 0, acc, at, length);
            return;
        }
        for (int oy = 0; oy < outHeight; oy++) {
            System.arraycopy(sum, oy * rowWidth, acc, at + oy * outWidth, outWidth);
        }
    }

    /**
     * Lays out into {@code to[p]} (p = oy·outWidth + ox) the input value tap (ky, kx) sees at each output
     * position: {@code x[xBase + iy·width + ix]} with iy = oy·strideH − padTop + ky and ix = ox·strideW −
     * padLeft + kx, where that lies inside the input; other cells are left as they are.
     */
    private void gather(int[] x, int xBase, int ky, int kx, int[] to) {
        // Output columns whose input column ox·strideW − padLeft + kx lies in [0, width).
        int first = Math.max(0, -Math.floorDiv(kx - padLeft, strideW));
        int last = Math.min(outWidth - 1, Math.floorDiv(width - 1 + padLeft - kx, strideW));
        if (last < first) {
            return;   // this kernel column sees only padding (a narrow input)
        }
        for (int oy = 0; oy < outHeight; oy++) {
            int iy = oy * strideH - padTop + ky;
            if (iy < 0 || iy >= height) {
                continue;
            }
            int row = xBase + iy * width - padLeft + kx;
            int out = oy * outWidth;
            if (strideW == 1) {
                System.arraycopy(x, row + first, to, out + first, last - first + 1);
            } else {
                for (int ox = first; ox <= last; ox++) {
                    to[out + ox] = x[row + ox * strideW];
                }
            }
        }
    }

    /** {@code sum[p] += w · row[p]} for every p. */
    static void multiplyAdd(int[] sum, int[] row, int w) {
        for (int p = 0; p < sum.length; p++) {
            sum[p] += w * row[p];
        }
    }

    /** {@code sum[p] += w0 · a[p] + w1 · b[p] + w2 · c[p]}: three rows into one sum, one store per 3 products. */
    static void multiplyAdd3(int[] sum, int[] a, int[] b, int[] c, int w0, int w1, int w2) {
        for (int p = 0; p < sum.length; p++) {
            sum[p] += w0 * a[p] + w1 * b[p] + w2 * c[p];
        }
    }
}
