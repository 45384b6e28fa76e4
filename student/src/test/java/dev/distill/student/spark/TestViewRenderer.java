package dev.distill.student.spark;

import dev.distill.datasets.augment.Augmentation;
import dev.distill.datasets.augment.View;
import dev.distill.student.loss.PackedTargets;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestViewRenderer {
    static final int C = 3;

    /** Two 1×4×4 images (pixel values 1..16 and 101..116), ids 7 and 8, class 1 and 2. */
    static PackedBatch batch(int views, int[] boxes, float[] viewLogits) {
        float[] x = new float[32];
        for (int i = 0; i < 16; i++) {
            x[i] = i + 1;
            x[16 + i] = 101 + i;
        }
        float[] y = new float[2 * PackedTargets.width(C)];
        PackedTargets.pack(new float[] {9, 9, 9}, 1, C, y, 0);
        PackedTargets.pack(new float[] {8, 8, 8}, 2, C, y, PackedTargets.width(C));
        return new PackedBatch(2, x, y, new long[] {7, 8}, views, boxes, viewLogits);
    }

    @Test
    void withoutViewsOrAugmentationTheBatchIsUsedAsItIs() {
        PackedBatch b = batch(0, null, null);
        ViewRenderer r = new ViewRenderer(Augmentation.NONE, new int[] {16}, 1);
        r.render(b, 3);
        assertThat(r.features(b)).isSameAs(b.features());
        assertThat(r.labels(b)).isSameAs(b.labels());
    }

    /** Each row is its own view of (seed, id, epoch), the same on every call, and other in another epoch. */
    @Test
    void augmentedRowsAreTheViewsTheirIdAndEpochDraw() {
        PackedBatch b = batch(0, null, null);
        Augmentation aug = new Augmentation(1, 0.5, 0, 0);
        ViewRenderer r = new ViewRenderer(aug, new int[] {1, 4, 4}, 5);
        Set<String> seen = new HashSet<>();
        for (int epoch = 0; epoch < 12; epoch++) {
            r.render(b, epoch);
            float[] got = r.features(b).clone();
            assertThat(got).isNotSameAs(b.features());
            for (int row = 0; row < 2; row++) {
                View v = aug.sample(r.random(b.ids()[row], epoch), 4, 4);
                float[] expected = new float[16];
                v.render(b.features(), row * 16, 1, 4, 4, expected, 0);
                assertThat(java.util.Arrays.copyOfRange(got, row * 16, row * 16 + 16)).as("row %d epoch %d", row, epoch)
                        .containsExactly(expected);
                seen.add(row + ":" + v);
            }
            r.render(b, epoch);
            assertThat(r.features(b)).containsExactly(got);
            assertThat(r.labels(b)).isSameAs(b.labels());
        }
        assertThat(seen).as("views differ between epochs").hasSizeGreaterThan(6);
    }

    /**
     * Stored views: row r's view v is the box of boxes[(r·V + v)·5 ..] and its target the teacher's logits on it;
     * the hard label and flag stay. Every stored view is picked in some epoch.
     */
    @Test
    void storedViewsReplayTheirBoxAndTheirTeacherLogits() {
        int views = 2;
        int[] boxes = new int[2 * views * View.NUMBERS];
        View.identity(4, 4).encode(boxes, 0);
        new View(1, 0, 4, 4, true).encode(boxes, 5);
        new View(0, -1, 4, 4, false).encode(boxes, 10);
        new View(0, 0, 2, 2, false).encode(boxes, 15);
        float[] logits = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        PackedBatch b = batch(views, boxes, logits);
        ViewRenderer r = new ViewRenderer(Augmentation.NONE, new int[] {1, 4, 4}, 5);
        Set<String> picked = new HashSet<>();
        int w = PackedTargets.width(C);
        for (int epoch = 0; epoch < 16; epoch++) {
            r.render(b, epoch);
            for (int row = 0; row < 2; row++) {
                int v = r.random(b.ids()[row], epoch).nextInt(views);
                picked.add(row + ":" + v);
                float[] expected = new float[16];
                View.decode(boxes, (row * views + v) * 5).render(b.features(), row * 16, 1, 4, 4, expected, 0);
                assertThat(java.util.Arrays.copyOfRange(r.features(b), row * 16, row * 16 + 16)).containsExactly(expected);
                float[] target = java.util.Arrays.copyOfRange(r.labels(b), row * w, row * w + w);
                assertThat(java.util.Arrays.copyOfRange(target, 0, C))
                        .containsExactly(java.util.Arrays.copyOfRange(logits, (row * views + v) * C, (row * views + v) * C + C));
                assertThat(java.util.Arrays.copyOfRange(target, C, w))
                        .containsExactly(java.util.Arrays.copyOfRange(b.labels(), row * w + C, row * w + w));
            }
        }
        assertThat(picked).containsExactlyInAnyOrder("0:0", "0:1", "1:0", "1:1");
        assertThat(b.labels()[0]).as("the batch itself is left as it was").isEqualTo(9f);
    }

    /**
     * Top-k stored views (k = 1 of C = 3): the picked view's target is its one stored logit in place and the
     * tail mass spread over the other two classes, by hand: view logit 2 for class 1 with logsumexp
     * log(e² + 2) leaves tail mass 2 / (e² + 2), so each other class gets log(1) = 0.
     */
    @Test
    void topKStoredViewsRebuildThePickedViewsLogits() {
        int views = 2;
        int[] boxes = new int[2 * views * View.NUMBERS];
        for (int i = 0; i < 4; i++) {
            View.identity(4, 4).encode(boxes, i * 5);
        }
        float lse = (float) Math.log(Math.exp(2) + 2);
        int[] index = {1, 0, 2, 1};            // row 0: views of class 1 and 0; row 1: classes 2 and 1
        float[] top = {2, 2, 2, 2};
        float[] logSumExp = {lse, lse, lse, lse};
        PackedBatch plain = batch(views, boxes, null);
        PackedBatch b = new PackedBatch(2, plain.features(), plain.labels(), plain.ids(), views, boxes, top, 1, index,
                logSumExp);
        ViewRenderer r = new ViewRenderer(Augmentation.NONE, new int[] {1, 4, 4}, 5);
        int w = PackedTargets.width(C);
        Set<String> picked = new HashSet<>();
        for (int epoch = 0; epoch < 16; epoch++) {
            r.render(b, epoch);
            for (int row = 0; row < 2; row++) {
                int v = r.random(b.ids()[row], epoch).nextInt(views);
                picked.add(row + ":" + v);
                float[] want = new float[C];
                want[index[row * views + v]] = 2;
                float[] got = java.util.Arrays.copyOfRange(r.labels(b), row * w, row * w + C);
                assertThat(got).as("row %d view %d", row, v).containsExactly(want, org.assertj.core.data.Offset.offset(1e-6f));
            }
        }
        assertThat(picked).containsExactlyInAnyOrder("0:0", "0:1", "1:0", "1:1");
    }

    @Test
    void viewsNeedImagesOfTheRowsSize() {
        assertThatThrownBy(() -> new ViewRenderer(new Augmentation(1, 0, 0, 0), new int[] {16}, 1))
                .hasMessage("augmentation needs image inputs of shape [channels, height, width], not [16]");
        ViewRenderer r = new ViewRenderer(new Augmentation(1, 0, 0, 0), new int[] {1, 3, 3}, 1);
        assertThatThrownBy(() -> r.render(batch(0, null, null), 0))
                .hasMessage("views of [1, 3, 3] images, but the rows have 16 features");
    }
}
