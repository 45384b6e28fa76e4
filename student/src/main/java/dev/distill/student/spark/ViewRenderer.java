package dev.distill.student.spark;

import dev.distill.datasets.augment.Augmentation;
import dev.distill.datasets.augment.View;
import dev.distill.datasets.softlabels.TopK;
import dev.distill.student.loss.PackedTargets;

import java.io.Serializable;
import java.util.SplittableRandom;

/**
 * What a minibatch looks like in one epoch: each row through one view, rendered into arrays reused from batch to
 * batch (no allocation per row or batch). A row with stored views (soft labels of {@code kd.soft-labels.views})
 * is seen through one of them, picked by (seed, id, epoch), with that view's teacher logits as its target;
 * otherwise, with an augmentation, through a fresh random view drawn from (seed, id, epoch); otherwise as it is.
 * The same (seed, id, epoch) gives the same view on any worker, partitioning or retry.
 */
final class ViewRenderer implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Keeps the trainer's view draws apart from the draws that made the stored views. */
    private static final long SALT = 0x7F4A7C15F39CC060L;

    private final Augmentation augmentation;
    private final int channels;
    private final int height;
    private final int width;
    private final long seed;
    private transient float[] features;
    private transient float[] labels;

    /**
     * @param augmentation the random views when a row has no stored views; {@link Augmentation#NONE} for none
     * @param shape        the input shape; views need [C, H, W] (only read when augmenting or with views)
     */
    ViewRenderer(Augmentation augmentation, int[] shape, long seed) {
        this.augmentation = augmentation;
        this.channels = shape.length == 3 ? shape[0] : 0;
        this.height = shape.length == 3 ? shape[1] : 0;
        this.width = shape.length == 3 ? shape[2] : 0;
        this.seed = seed;
        if (augmentation.enabled() && shape.length != 3) {
            throw new IllegalArgumentException("augmentation needs image inputs of shape [channels, height, width],"
                    + " not " + java.util.Arrays.toString(shape));
        }
    }

    /** The random generator of row {@code id} in {@code epoch}. */
    SplittableRandom random(long id, int epoch) {
        return Augmentation.random(seed ^ SALT, id, epoch);
    }

    /**
     * Renders {@code b} for {@code epoch}; afterwards {@link #features()} and {@link #labels()} hold it (the
     * batch's own arrays when nothing changes).
     */
    void render(PackedBatch b, int epoch) {
        int n = b.rows();
        int f = b.features().length / n;
        boolean stored = b.views() > 0;
        if (!augmentation.enabled() && !stored) {
            features = null;
            labels = null;
            return;
        }
        if (channels * height * width != f) {
            throw new IllegalArgumentException("views of [" + channels + ", " + height + ", " + width + "] images, but"
                    + " the rows have " + f + " features");
        }
        if (features == null || features.length != b.features().length) {
            features = new float[b.features().length];
        }
        if (stored && (labels == null || labels.length != b.labels().length)) {
            labels = new float[b.labels().length];
        }
        int w = b.labels().length / n;
        int c = (w - 1) / 2;
        if (stored) {
            System.arraycopy(b.labels(), 0, labels, 0, labels.length);
        }
        for (int r = 0; r < n; r++) {
            SplittableRandom rnd = random(b.ids()[r], epoch);
            View view;
            if (stored) {
                int v = rnd.nextInt(b.views());
                view = View.decode(b.viewBoxes(), (r * b.views() + v) * View.NUMBERS);
                int k = b.viewTopK();
                if (k > 0) {
                    int at = (r * b.views() + v) * k;
                    TopK.expandInto(b.viewTopIndex(), b.viewLogits(), at, k, b.viewLogSumExp()[r * b.views() + v], c,
                            labels, r * w);
                } else {
                    System.arraycopy(b.viewLogits(), (r * b.views() + v) * c, labels, r * w, c);
                }
            } else {
                view = augmentation.sample(rnd, height, width);
            }
            view.render(b.features(), r * f, channels, height, width, features, r * f);
        }
        if (PackedTargets.width(c) != w) {
            throw new IllegalStateException("packed targets of width " + w);
        }
    }

    /** The rendered features of the last batch. */
    float[] features(PackedBatch b) {
        return features == null ? b.features() : features;
    }

    /** The targets of the last batch (with each row's view's teacher logits when it has stored views). */
    float[] labels(PackedBatch b) {
        return b.views() > 0 && labels != null ? labels : b.labels();
    }

    @Override
    public String toString() {
        return augmentation.toString();
    }
}
