package dev.distill.datasets.augment;

import dev.distill.settings.SettingsReader;

import java.util.SplittableRandom;

/**
 * The random views of {@code kd.augment} for images of shape {@code [C, H, W]}: a random shift with padding
 * ({@code shift = p}: the box moves by up to p pixels each way, uniformly in whole pixels, the uncovered
 * border is 0), a random-resized crop ({@code crop.scale = [a, b]}: a box of a uniform fraction of the image's
 * area in [a, b] and aspect ratio log-uniform in [3/4, 4/3], placed uniformly inside the image, as
 * torchvision's RandomResizedCrop; after 10 failed tries the whole image), and a horizontal flip with
 * probability {@code flip}. A crop and a shift are not combined: with a crop set, {@code shift} must be 0.
 *
 * <p>Views are drawn from a {@link SplittableRandom} seeded by (seed, example id, draw), so the view of an
 * example is the same in every run, task and retry, whatever the partitioning.
 */
public record Augmentation(int shift, double flip, double cropMin, double cropMax) implements java.io.Serializable {
    /** No augmentation: every view is the image itself. */
    public static final Augmentation NONE = new Augmentation(0, 0, 0, 0);

    public Augmentation {
        if (shift < 0 || flip < 0 || flip > 1 || cropMin < 0 || cropMax > 1 || cropMin > cropMax
                || (cropMax > 0 && shift > 0)) {
            throw new IllegalArgumentException("invalid augmentation " + shift + ", " + flip + ", [" + cropMin + ", "
                    + cropMax + "]");
        }
    }

    /** True when some view differs from the image. */
    public boolean enabled() {
        return shift > 0 || flip > 0 || cropMax > 0;
    }

    /** In words, e.g. "shift ±2 px, flip 0.5" or "crop [0.35, 1], flip 0.5"; "none" without views. */
    public String describe() {
        if (!enabled()) {
            return "none";
        }
        java.util.List<String> parts = new java.util.ArrayList<>();
        if (shift > 0) {
            parts.add("shift ±" + shift + " px");
        }
        if (cropMax > 0) {
            parts.add("crop [" + cropMin + ", " + cropMax + "]");
        }
        if (flip > 0) {
            parts.add("flip " + flip);
        }
        return String.join(", ", parts);
    }

    /** Reads {@code kd.augment}; problems are recorded in the reader. */
    public static Augmentation read(SettingsReader r) {
        int shift = r.has("shift") ? r.integer("shift", 0, 1 << 12) : 0;
        double flip = r.has("flip") ? r.fraction("flip") : 0;
        double lo = 0;
        double hi = 0;
        boolean hasScale = r.config().hasPath("crop.scale");
        SettingsReader crop = hasScale ? r.section("crop") : null;
        java.util.List<Object> scale = java.util.List.of();
        if (hasScale) {
            try {
                scale = crop.config().getList("scale").unwrapped();
            } catch (com.typesafe.config.ConfigException.WrongType e) {
                scale = java.util.List.of("not a list");
            }
        }
        if (!scale.isEmpty()) {
            if (scale.size() != 2 || !(scale.get(0) instanceof Number a) || !(scale.get(1) instanceof Number b)
                    || a.doubleValue() <= 0 || b.doubleValue() > 1 || a.doubleValue() > b.doubleValue()) {
                crop.problem("scale", "must be [] (no crop) or two fractions of the image's area [min, max] with"
                        + " 0 < min <= max <= 1, e.g. [0.35, 1]");
            } else {
                lo = a.doubleValue();
                hi = b.doubleValue();
                if (shift > 0) {
                    r.problem("shift", "must be 0 when kd.augment.crop.scale is set: a view is a shift or a crop,"
                            + " not both");
                    shift = 0;
                }
            }
        }
        return new Augmentation(shift, flip, lo, hi);
    }

    /** A deterministic generator for draw {@code draw} of example {@code id} under {@code seed}. */
    public static SplittableRandom random(long seed, long id, long draw) {
        long h = seed * 0x9E3779B97F4A7C15L + id;
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L + draw;
        return new SplittableRandom(h ^ (h >>> 29));
    }

    /** A random view of an {@code h}×{@code w} image. */
    public View sample(SplittableRandom rnd, int h, int w) {
        int x = 0;
        int y = 0;
        int bw = w;
        int bh = h;
        if (cropMax > 0) {
            boolean found = false;
            double area = (double) h * w;
            for (int attempt = 0; attempt < 10 && !found; attempt++) {
                double target = area * (cropMin + rnd.nextDouble() * (cropMax - cropMin));
                double ratio = Math.exp(Math.log(3.0 / 4) + rnd.nextDouble() * (Math.log(4.0 / 3) - Math.log(3.0 / 4)));
                int cw = (int) Math.round(Math.sqrt(target * ratio));
                int ch = (int) Math.round(Math.sqrt(target / ratio));
                if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                    bw = cw;
                    bh = ch;
                    x = rnd.nextInt(w - cw + 1);
                    y = rnd.nextInt(h - ch + 1);
                    found = true;
                }
            }
        } else if (shift > 0) {
            x = rnd.nextInt(2 * shift + 1) - shift;
            y = rnd.nextInt(2 * shift + 1) - shift;
        }
        boolean mirrored = flip > 0 && rnd.nextDouble() < flip;
        return new View(x, y, bw, bh, mirrored);
    }
}
