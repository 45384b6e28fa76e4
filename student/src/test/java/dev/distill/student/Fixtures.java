package dev.distill.student;

import dev.distill.student.loss.PackedTargets;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** Settings shared by the student module's tests. */
public final class Fixtures {
    private Fixtures() {
    }

    /** One epoch of Adam (lr 0.01), batch 8, one worker, seed 1: small networks train in milliseconds. */
    public static TrainingSettings training() {
        return new TrainingSettings(1, 8, 1, 1, "adam", 0.01, 0.9, "constant", 0.5, 1, 0, 1);
    }

    /** Rows {@code x} with hard labels {@code y} of {@code classes} classes, packed as {@link PackedTargets}. */
    public static DataSet hardLabels(float[][] x, int[] y, int classes) {
        int width = 2 * classes + 1;
        float[] labels = new float[x.length * width];
        for (int i = 0; i < x.length; i++) {
            PackedTargets.pack(null, y[i], classes, labels, i * width);
        }
        return new DataSet(Nd4j.create(x), Nd4j.create(labels, new long[] {x.length, width}, 'c'));
    }

    /** A small image problem for convolutional tests. */
    public record ConvData(float[][] x, int[] y) {
        public static ConvData of(int n, long seed) {
            java.util.Random r = new java.util.Random(seed);
            float[][] x = new float[n][36];
            int[] y = new int[n];
            int[][] corners = {{0, 0}, {2, 2}, {4, 4}};
            for (int i = 0; i < n; i++) {
                y[i] = r.nextInt(3);
                for (int k = 0; k < 36; k++) {
                    x[i][k] = (float) Math.max(0, r.nextGaussian() * 0.2);
                }
                for (int dy = 0; dy < 2; dy++) {
                    for (int dx = 0; dx < 2; dx++) {
                        x[i][(corners[y[i]][0] + dy) * 6 + corners[y[i]][1] + dx] += 1f;
                    }
                }
            }
            return new ConvData(x, y);
        }

        public DataSet dataSet() {
            return hardLabels(x, y, 3);
        }
    }
}
