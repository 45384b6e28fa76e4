package dev.distill.datasets;

import java.util.List;

/** Reading array columns of Spark {@code Row}s. */
public final class Rows {
    private Rows() {
    }

    /** A list of numbers (an array column read with {@code Row.getList}) as a new float[]. */
    public static float[] floats(List<?> xs) {
        float[] f = new float[xs.size()];
        for (int j = 0; j < f.length; j++) {
            f[j] = ((Number) xs.get(j)).floatValue();
        }
        return f;
    }
}
