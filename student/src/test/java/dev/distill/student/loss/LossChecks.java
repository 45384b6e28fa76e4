package dev.distill.student.loss;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Shared checks of distillation losses: packed rows, random batches, and gradients by finite differences. */
final class LossChecks {
    private LossChecks() {
    }

    static float[] packed(float[] teacher, Integer label, int c) {
        float[] y = new float[PackedTargets.width(c)];
        PackedTargets.pack(teacher, label, c, y, 0);
        return y;
    }

    /** b rows of c random student logits. */
    static float[][] logits(Random r, int b, int c, double scale) {
        float[][] z = new float[b][c];
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < c; k++) {
                z[i][k] = (float) (r.nextGaussian() * scale);
            }
        }
        return z;
    }

    /** b packed rows of random teacher logits and labels; the rows in {@code unlabelled} get no label. */
    static float[][] targets(Random r, int b, int c, double scale, int... unlabelled) {
        float[][] y = new float[b][];
        for (int i = 0; i < b; i++) {
            float[] t = new float[c];
            for (int k = 0; k < c; k++) {
                t[k] = (float) (r.nextGaussian() * scale);
            }
            final int row = i;
            boolean none = java.util.Arrays.stream(unlabelled).anyMatch(u -> u == row);
            y[i] = packed(t, none ? null : r.nextInt(c), c);
        }
        return y;
    }

    static double sum(double[] xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s;
    }

    /**
     * The gradient a loss returns against central differences of the summed per-row scores (the quantity whose
     * gradient DL4J expects, before it divides by the minibatch size).
     */
    static void assertGradientMatchesFiniteDifferences(DistillationLoss loss, float[][] z, float[][] y, float tolerance) {
        int b = z.length;
        int c = z[0].length;
        float[][] grad = new float[b][c];
        loss.lossAndGradient(z, y, grad);
        double h = 1e-3;
        for (int i = 0; i < b; i++) {
            for (int k = 0; k < c; k++) {
                float keep = z[i][k];
                z[i][k] = (float) (keep + h);
                double up = sum(loss.lossAndGradient(z, y, null));
                z[i][k] = (float) (keep - h);
                double down = sum(loss.lossAndGradient(z, y, null));
                z[i][k] = keep;
                // the perturbed logits are floats: use the step actually taken
                double step = ((float) (keep + h)) - ((float) (keep - h));
                assertThat(grad[i][k]).as("%s: dL/dz[%d][%d]", loss.name(), i, k)
                        .isCloseTo((float) ((up - down) / step), within(tolerance));
            }
        }
    }
}
