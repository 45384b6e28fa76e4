package dev.distill.datasets.images;

import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestImageDecoder {
    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = r.nextInt(256);
        }
        return f;
    }

    @Test
    void aGreyPngGivesExactlyItsStoredBytes() throws IOException {
        float[] px = random(5 * 7, 1);
        byte[] png = ImageFiles.encode(new ImageFiles.Image(px, 1, 5, 7, 0), "png");
        assertThat(new ImageDecoder(1, 5, 7, ImageDecoder.Resize.BILINEAR).decode(png)).containsExactly(px);
        // Three channels from a grey image repeat it.
        float[] rgb = new ImageDecoder(3, 5, 7, ImageDecoder.Resize.AREA).decode(png);
        for (int c = 0; c < 3; c++) {
            assertThat(Arrays.copyOfRange(rgb, c * 35, (c + 1) * 35)).containsExactly(px);
        }
    }

    @Test
    void anRgbPngKeepsItsChannelsAndOneChannelIsTheLuma() throws IOException {
        float[] px = random(3 * 4 * 6, 2);
        byte[] png = ImageFiles.encode(new ImageFiles.Image(px, 3, 4, 6, 0), "png");
        assertThat(new ImageDecoder(3, 4, 6, ImageDecoder.Resize.NEAREST).decode(png)).containsExactly(px);
        float[] grey = new ImageDecoder(1, 4, 6, ImageDecoder.Resize.NEAREST).decode(png);
        for (int i = 0; i < 24; i++) {
            assertThat(grey[i]).isCloseTo(0.299f * px[i] + 0.587f * px[24 + i] + 0.114f * px[48 + i], within(1e-3f));
        }
    }

    @Test
    void sixteenBitGreyIsScaledTo255() throws IOException {
        BufferedImage im = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        im.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {65535, 257 * 100});
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ImageIO.write(im, "png", b);
        assertThat(new ImageDecoder(1, 1, 2, ImageDecoder.Resize.BILINEAR).decode(b.toByteArray()))
                .containsExactly(255f, 100f);
    }

    @Test
    void aJpegDecodesCloseToItsPixels() throws IOException {
        float[] px = new float[8 * 8];
        Arrays.fill(px, 128);
        byte[] jpeg = ImageFiles.encode(new ImageFiles.Image(px, 1, 8, 8, 0), "jpeg");
        assertThat(jpeg[0] & 0xff).isEqualTo(0xFF);
        assertThat(jpeg[1] & 0xff).isEqualTo(0xD8);   // a JPEG start-of-image marker
        for (float v : new ImageDecoder(1, 8, 8, ImageDecoder.Resize.BILINEAR).decode(jpeg)) {
            assertThat(v).isCloseTo(128f, within(1f));
        }
    }

    /** Shrinking [0, 10, 20, 30] by 2, by hand. */
    @Test
    void shrinkingWeightsAreTheWidenedFiltersNormalised() {
        float[] in = {0, 10, 20, 30};
        float[] out = new float[2];
        // Area: output i covers source pixels 2i and 2i+1.
        ImageDecoder.Weights.of(4, 2, ImageDecoder.Resize.AREA).apply(in, 0, 1, out, 0, 1);
        assertThat(out).containsExactly(5f, 25f);
        // Bilinear (triangle of half-width 2 around centres 1 and 3): weights 0.75, 0.75, 0.25 at the edge,
        // 0.25, 0.75, 0.75, 0.25 inside, each normalised.
        ImageDecoder.Weights.of(4, 2, ImageDecoder.Resize.BILINEAR).apply(in, 0, 1, out, 0, 1);
        assertThat(out[0]).isCloseTo((0.75f * 0 + 0.75f * 10 + 0.25f * 20) / 1.75f, within(1e-5f));
        assertThat(out[1]).isCloseTo((0.25f * 10 + 0.75f * 20 + 0.75f * 30) / 1.75f, within(1e-5f));
        // Nearest: the pixel under each centre (1 and 3).
        ImageDecoder.Weights.of(4, 2, ImageDecoder.Resize.NEAREST).apply(in, 0, 1, out, 0, 1);
        assertThat(out).containsExactly(10f, 30f);
    }

    /** Enlarging [0, 8] to 4 pixels: plain bilinear interpolation at half-pixel centres, clamped at the edges. */
    @Test
    void enlargingIsPlainInterpolation() {
        float[] out = new float[4];
        ImageDecoder.Weights.of(2, 4, ImageDecoder.Resize.BILINEAR).apply(new float[] {0, 8}, 0, 1, out, 0, 1);
        assertThat(out).containsExactly(0f, 2f, 6f, 8f);
        ImageDecoder.Weights.of(2, 4, ImageDecoder.Resize.AREA).apply(new float[] {0, 8}, 0, 1, out, 0, 1);
        assertThat(out).containsExactly(0f, 0f, 8f, 8f);
    }

    @Test
    void aTwoDimensionalResizeIsBothPasses() throws IOException {
        // 4x4 with value 10*row + col, shrunk to 2x2 by area: each output the mean of its 2x2 block.
        float[] px = new float[16];
        for (int i = 0; i < 16; i++) {
            px[i] = 10 * (i / 4) + i % 4;
        }
        byte[] png = ImageFiles.encode(new ImageFiles.Image(px, 1, 4, 4, 0), "png");
        assertThat(new ImageDecoder(1, 2, 2, ImageDecoder.Resize.AREA).decode(png))
                .containsExactly(5.5f, 7.5f, 25.5f, 27.5f);
        // A non-square target: 4x4 to 1x2.
        assertThat(new ImageDecoder(1, 1, 2, ImageDecoder.Resize.AREA).decode(png)).containsExactly(15.5f, 17.5f);
    }

    @Test
    void whatIsNotAnImageIsRefusedWithTheReason() throws IOException {
        ImageDecoder d = new ImageDecoder(1, 2, 2, ImageDecoder.Resize.BILINEAR);
        assertThatThrownBy(() -> d.decode("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
                .isInstanceOf(IOException.class)
                .hasMessage("not an image the JDK can read (PNG, JPEG, BMP or GIF; 5 bytes)");
        byte[] png = ImageFiles.encode(new ImageFiles.Image(random(64 * 64, 3), 1, 64, 64, 0), "png");
        byte[] cut = Arrays.copyOf(png, png.length / 2);
        assertThatThrownBy(() -> d.decode(cut)).isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot decode the image (");
        assertThatThrownBy(() -> new ImageDecoder(2, 2, 2, ImageDecoder.Resize.AREA))
                .hasMessage("images have 1 (grey) or 3 (RGB) channels, not 2");
    }
}
