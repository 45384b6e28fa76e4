package dev.distill.datasets.augment;

import com.typesafe.config.ConfigFactory;
import dev.distill.settings.Problem;
import dev.distill.settings.SettingsReader;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestAugmentation {
    /** A 1x3x3 image holding 1..9 row by row. */
    private static final float[] NINE = {1, 2, 3, 4, 5, 6, 7, 8, 9};

    private static float[] render(View v, float[] src, int c, int h, int w) {
        float[] dst = new float[src.length + 2];
        java.util.Arrays.fill(dst, -1);
        v.render(src, 0, c, h, w, dst, 1);
        assertThat(dst[0]).as("writes only its own range").isEqualTo(-1);
        assertThat(dst[dst.length - 1]).isEqualTo(-1);
        return java.util.Arrays.copyOfRange(dst, 1, dst.length - 1);
    }

    @Test
    void theIdentityViewIsTheImage() {
        assertThat(render(View.identity(3, 3), NINE, 1, 3, 3)).containsExactly(NINE);
        assertThat(View.identity(3, 3).isIdentity(3, 3)).isTrue();
    }

    /** Box moved one column right and one row up: the content moves left and down, the border is 0. */
    @Test
    void aShiftCopiesWholePixelsAndPadsWithZero() {
        assertThat(render(new View(1, -1, 3, 3, false), NINE, 1, 3, 3)).containsExactly(
                0, 0, 0,
                2, 3, 0,
                5, 6, 0);
        assertThat(render(new View(0, 0, 3, 3, true), NINE, 1, 3, 3)).containsExactly(
                3, 2, 1,
                6, 5, 4,
                9, 8, 7);
        // Flip after shift: the shifted view, mirrored.
        assertThat(render(new View(1, 0, 3, 3, true), NINE, 1, 3, 3)).containsExactly(
                0, 3, 2,
                0, 6, 5,
                0, 9, 8);
    }

    @Test
    void everyChannelGetsTheSameView() {
        float[] two = new float[18];
        for (int i = 0; i < 9; i++) {
            two[i] = NINE[i];
            two[9 + i] = 10 * NINE[i];
        }
        float[] out = render(new View(0, 1, 3, 3, false), two, 2, 3, 3);
        assertThat(out).containsExactly(4, 5, 6, 7, 8, 9, 0, 0, 0, 40, 50, 60, 70, 80, 90, 0, 0, 0);
    }

    /**
     * Bilinear resampling of a crop: on an image whose value is linear in the position, v(r, c) = 4r + c,
     * bilinear interpolation is exact, so the view of the box at (1, 1) of size 2x2 scaled to 4x4 holds
     * v(0.75 + 0.5 i, 0.75 + 0.5 j) = 3.75 + 2i + 0.5j (sampling points (i + 0.5)·2/4 − 0.5 + 1).
     */
    @Test
    void aCropIsResampledBilinearly() {
        float[] img = new float[16];
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                img[r * 4 + c] = 4 * r + c;
            }
        }
        float[] out = render(new View(1, 1, 2, 2, false), img, 1, 4, 4);
        float[] flipped = render(new View(1, 1, 2, 2, true), img, 1, 4, 4);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                assertThat(out[i * 4 + j]).isCloseTo(3.75f + 2 * i + 0.5f * j, within(1e-6f));
                assertThat(flipped[i * 4 + j]).isCloseTo(3.75f + 2 * i + 0.5f * (3 - j), within(1e-6f));
            }
        }
        // At the image's edge the sampling point is held inside: the box (0, 0) of 2x2 samples at
        // -0.25 + 0.5 i, which for i = 0 is held at 0 (the top-left pixel), so v = 4·max(fy, 0) + max(fx, 0).
        float[] corner = render(new View(0, 0, 2, 2, false), img, 1, 4, 4);
        assertThat(corner[0]).isEqualTo(0f);
        assertThat(corner[1]).isCloseTo(0.25f, within(1e-6f));
        assertThat(corner[4]).isCloseTo(1f, within(1e-6f));
        assertThat(corner[5]).isCloseTo(1.25f, within(1e-6f));
    }

    @Test
    void shiftsStayWithinThePaddingAndFlipHalfTheTime() {
        Augmentation a = new Augmentation(2, 0.5, 0, 0);
        int flips = 0;
        Set<String> offsets = new HashSet<>();
        for (long id = 0; id < 10_000; id++) {
            View v = a.sample(Augmentation.random(7, id, 0), 28, 28);
            assertThat(v.x()).isBetween(-2, 2);
            assertThat(v.y()).isBetween(-2, 2);
            assertThat(v.width()).isEqualTo(28);
            assertThat(v.height()).isEqualTo(28);
            offsets.add(v.x() + "," + v.y());
            flips += v.flip() ? 1 : 0;
        }
        assertThat(offsets).hasSize(25);
        assertThat(flips).isBetween(4_800, 5_200);
    }

    @Test
    void cropsHaveTheirAreaAndAspectRatioAndLieInsideTheImage() {
        Augmentation a = new Augmentation(0, 0, 0.35, 1);
        double smallest = 1;
        for (long id = 0; id < 5_000; id++) {
            View v = a.sample(Augmentation.random(1, id, 3), 28, 28);
            double area = v.width() * v.height() / (28.0 * 28);
            double ratio = (double) v.width() / v.height();
            assertThat(area).isBetween(0.30, 1.0);   // rounding to whole pixels moves it a little
            assertThat(ratio).isBetween(0.70, 1.43);
            assertThat(v.x()).isBetween(0, 28 - v.width());
            assertThat(v.y()).isBetween(0, 28 - v.height());
            assertThat(v.flip()).isFalse();
            smallest = Math.min(smallest, area);
        }
        assertThat(smallest).isLessThan(0.4);
    }

    /** The view of (seed, id, draw) is the same every time it is drawn, and another id gives another view. */
    @Test
    void viewsAreReproducibleFromSeedIdAndDraw() {
        Augmentation a = new Augmentation(0, 0.5, 0.2, 1);
        assertThat(a.sample(Augmentation.random(5, 123, 4), 28, 28)).isEqualTo(a.sample(Augmentation.random(5, 123, 4), 28, 28));
        Set<View> views = new HashSet<>();
        for (int draw = 0; draw < 50; draw++) {
            views.add(a.sample(Augmentation.random(5, 123, draw), 28, 28));
        }
        assertThat(views.size()).isGreaterThan(45);
        SplittableRandom r1 = Augmentation.random(5, 1, 0);
        SplittableRandom r2 = Augmentation.random(5, 2, 0);
        assertThat(r1.nextLong()).isNotEqualTo(r2.nextLong());
    }

    @Test
    void settingsAreCheckedTogether() {
        SettingsReader ok = SettingsReader.of(ConfigFactory.parseString(
                "kd.augment { shift = 2, flip = 0.5, crop.scale = [] }"), "kd.augment");
        assertThat(Augmentation.read(ok)).isEqualTo(new Augmentation(2, 0.5, 0, 0));
        assertThat(ok.problems()).isEmpty();
        SettingsReader both = SettingsReader.of(ConfigFactory.parseString(
                "kd.augment { shift = 2, flip = 0, crop.scale = [0.5, 1] }"), "kd.augment");
        Augmentation.read(both);
        assertThat(both.problems()).extracting(Problem::toString).containsExactly(
                "kd.augment.shift = 2: must be 0 when kd.augment.crop.scale is set: a view is a shift or a crop, not both");
        SettingsReader none = SettingsReader.of(ConfigFactory.parseString("kd.augment { }"), "kd.augment");
        assertThat(Augmentation.read(none)).isEqualTo(Augmentation.NONE);
        assertThat(Augmentation.NONE.enabled()).isFalse();
        assertThat(none.problems()).isEmpty();
        SettingsReader bad = SettingsReader.of(ConfigFactory.parseString(
                "kd.augment { shift = 0, flip = 1.5, crop.scale = [0.9, 0.2] }"), "kd.augment");
        Augmentation.read(bad);
        assertThat(bad.problems()).extracting(Problem::toString).containsExactly(
                "kd.augment.flip = 1.5: must be a number in [0, 1]",
                "kd.augment.crop.scale = [0.9,0.2]: must be [] (no crop) or two fractions of the image's area [min, max]"
                        + " with 0 < min <= max <= 1, e.g. [0.35, 1]");
    }
}
