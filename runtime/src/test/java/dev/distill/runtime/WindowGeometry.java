package dev.distill.runtime;

import java.util.Random;

/**
 * A random window geometry for the convolution tests: kernels 1-5 (not square), strides 1-3 (1 half the time
 * on each axis: with both, the patch rows come from a zero-bordered plane), inputs 1-9 on a side, every
 * padding the geometry allows, outputs that reach the bottom/right padding or stop short of it, and one time
 * in six a 1×1 layer over the whole map (each patch row is then a channel's plane).
 */
record WindowGeometry(int kh, int kw, int sh, int sw, int h, int w, int pt, int pl, int oh, int ow) {

    /** A geometry drawn from {@code r}, or null when its last window would start beyond the input. */
    static WindowGeometry draw(Random r) {
        int kh = 1 + r.nextInt(5), kw = 1 + r.nextInt(5);
        int sh = r.nextBoolean() ? 1 : 1 + r.nextInt(3), sw = r.nextBoolean() ? 1 : 1 + r.nextInt(3);
        int h = 1 + r.nextInt(9), w = 1 + r.nextInt(9);
        int pt = r.nextInt(kh), pl = r.nextInt(kw);
        int oh = 1 + r.nextInt(Math.max(1, (h + pt + kh) / sh)), ow = 1 + r.nextInt(Math.max(1, (w + pl + kw) / sw));
        if (r.nextInt(6) == 0) {
            return new WindowGeometry(1, 1, 1, 1, h, w, 0, 0, h, w);
        }
        if ((long) (oh - 1) * sh - pt >= h || (long) (ow - 1) * sw - pl >= w) {
            return null;   // refused by the layers' constructors
        }
        return new WindowGeometry(kh, kw, sh, sw, h, w, pt, pl, oh, ow);
    }
}
