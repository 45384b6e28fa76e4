package dev.distill.datasets.images;

import javax.imageio.ImageIO;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.Serializable;

/**
 * Turns an encoded image (PNG, JPEG, BMP or GIF, as the JDK's {@code ImageIO} reads them) into the model's
 * input: {@code channels × height × width} floats in channel-major order, each in [0, 255] (normalisation comes
 * afterwards, as for IDX pixels).
 *
 * <p>Channels: grey images are read from their raster (8 or 16 bits, the latter scaled to 255 by /257), never
 * through a colour conversion, so a grey PNG gives exactly its stored bytes; colour images as sRGB. One channel
 * from a colour image is the ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (what PIL's {@code convert("L")}
 * computes, unrounded); three channels from a grey image repeat it. Alpha is ignored.
 *
 * <p>Resizing (when the image is not already {@code height × width}) is separable, with each output pixel the
 * normalised weighted sum of the source pixels its filter covers, the filter widened by the shrink factor when
 * shrinking (antialiased, as PIL's {@code resize}): {@link Resize#NEAREST} takes the pixel under the output
 * pixel's centre; {@link Resize#BILINEAR} a triangle filter (plain bilinear interpolation when enlarging);
 * {@link Resize#AREA} a box filter (the mean of the covered source area when shrinking). Shrunk images agree
 * with PIL 9's {@code resize} (BILINEAR, BOX, NEAREST) to within its rounding to 8 bits (measured: at most 1 of
 * 255); when enlarging, a source pixel exactly on a box's edge counts half here where PIL gives it to one side,
 * and a nearest-pixel centre exactly on a border takes the later pixel here (computed exactly, in integers).
 */
public final class ImageDecoder implements Serializable {
    private static final long serialVersionUID = 1L;

    static {
        // ImageIO otherwise buffers every stream it reads in a temporary file.
        ImageIO.setUseCache(false);
    }

    /** How an image is resized to the input shape. */
    public enum Resize { NEAREST, BILINEAR, AREA }

    private final int channels;
    private final int height;
    private final int width;
    private final Resize resize;

    public ImageDecoder(int channels, int height, int width, Resize resize) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("images have 1 (grey) or 3 (RGB) channels, not " + channels);
        }
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("image size must be positive, not " + height + "x" + width);
        }
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.resize = resize;
    }

    public int length() {
        return channels * height * width;
    }

    /** Decodes {@code encoded}; an {@link IOException} says why it cannot (the caller names the file). */
    public float[] decode(byte[] encoded) throws IOException {
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(encoded));
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot decode the image (" + e.getMessage() + ")", e);
        }
        if (image == null) {
            throw new IOException("not an image the JDK can read (PNG, JPEG, BMP or GIF; " + encoded.length + " bytes)");
        }
        float[][] planes = planes(image);
        int h0 = image.getHeight();
        int w0 = image.getWidth();
        float[] out = new float[length()];
        int plane = height * width;
        for (int c = 0; c < channels; c++) {
            float[] src = planes.length == channels ? planes[c] : channels == 1 ? luma(planes) : planes[0];
            resizePlane(src, h0, w0, out, c * plane);
        }
        return out;
    }

    /** The image's planes in [0, 255]: one for grey images, R, G, B for the others. */
    static float[][] planes(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        ColorModel cm = image.getColorModel();
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            Raster raster = image.getRaster();
            int bits = cm.getComponentSize(0);
            float scale = bits == 8 ? 1f : 255f / ((1 << bits) - 1);
            int[] samples = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            float[] grey = new float[w * h];
            for (int i = 0; i < grey.length; i++) {
                grey[i] = samples[i] * scale;
            }
            return new float[][] {grey};
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        float[][] rgb = new float[3][w * h];
        for (int i = 0; i < argb.length; i++) {
            int p = argb[i];
            rgb[0][i] = (p >> 16) & 0xff;
            rgb[1][i] = (p >> 8) & 0xff;
            rgb[2][i] = p & 0xff;
        }
        return rgb;
    }

    private static float[] luma(float[][] rgb) {
        float[] y = new float[rgb[0].length];
        for (int i = 0; i < y.length; i++) {
            y[i] = 0.299f * rgb[0][i] + 0.587f * rgb[1][i] + 0.114f * rgb[2][i];
        }
        return y;
    }

    /** Resizes one {@code h0 × w0} plane into {@code out[offset ..]} as {@code height × width}. */
    private void resizePlane(float[] src, int h0, int w0, float[] out, int offset) {
        if (h0 == height && w0 == width) {
            System.arraycopy(src, 0, out, offset, src.length);
            return;
        }
        Weights across = Weights.of(w0, width, resize);
        Weights down = Weights.of(h0, height, resize);
        float[] rows = new float[h0 * width];   // horizontal pass
        for (int y = 0; y < h0; y++) {
            across.apply(src, y * w0, 1, rows, y * width, 1);
        }
        for (int x = 0; x < width; x++) {       // vertical pass
            down.apply(rows, x, width, out, offset + x, width);
        }
    }

    /**
     * For one axis resized from {@code n} to {@code m} pixels: output pixel i is Σ_k weights[i][k] ·
     * in[first[i] + k]. Output i's centre lies at source coordinate (i + ½)·n/m; a filter of support s
     * (½ for a box, 1 for a triangle) is widened to s·max(1, n/m) and evaluated at each source pixel centre's
     * distance divided by max(1, n/m), then the weights are normalised to sum to 1.
     */
    record Weights(int[] first, float[][] weights) {
        static Weights of(int n, int m, Resize resize) {
            double scale = (double) n / m;
            int[] first = new int[m];
            float[][] weights = new float[m][];
            for (int i = 0; i < m; i++) {
                double centre = (i + 0.5) * scale;
                if (resize == Resize.NEAREST) {   // floor((i + ½)·n/m) exactly: a centre on a border takes the later pixel
                    first[i] = (int) Math.min(n - 1, ((2L * i + 1) * n) / (2L * m));
                    weights[i] = new float[] {1f};
                    continue;
                }
                double widen = Math.max(1.0, scale);
                double support = (resize == Resize.AREA ? 0.5 : 1.0) * widen;
                int lo = Math.max(0, (int) Math.floor(centre - support));
                int hi = Math.min(n, (int) Math.ceil(centre + support));
                double[] w = new double[hi - lo];
                double total = 0;
                for (int j = lo; j < hi; j++) {
                    double d = Math.abs(j + 0.5 - centre) / widen;
                    double v = resize == Resize.AREA ? box(d) : Math.max(0, 1 - d);
                    w[j - lo] = v;
                    total += v;
                }
                weights[i] = new float[w.length];
                for (int k = 0; k < w.length; k++) {
                    weights[i][k] = (float) (w[k] / total);
                }
                first[i] = lo;
            }
            return new Weights(first, weights);
        }

        /** The box filter's value at distance d, with a pixel exactly on its edge counted half, so the filter stays symmetric. */
        private static double box(double d) {
            return d < 0.5 ? 1 : d == 0.5 ? 0.5 : 0;
        }

        void apply(float[] in, int inOffset, int inStride, float[] out, int outOffset, int outStride) {
            for (int i = 0; i < first.length; i++) {
                float[] w = weights[i];
                int at = inOffset + first[i] * inStride;
                float sum = 0;
                for (int k = 0; k < w.length; k++) {
                    sum += w[k] * in[at + k * inStride];
                }
                out[outOffset + i * outStride] = sum;
            }
        }
    }

    @Override
    public String toString() {
        return channels + "x" + height + "x" + width + " " + resize.name().toLowerCase(java.util.Locale.ROOT);
    }
}
