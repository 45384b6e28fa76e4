package dev.distill.student.compress;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestSvd {
    /** A = [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] has eigenvalues 45 and 5, so s = (√45, √5). */
    @Test
    void singularValuesOfATwoByTwoAsDerivedByHand() {
        Svd svd = Svd.of(new float[] {3, 0, 4, 5}, 2, 2);
        assertThat(svd.s()).containsExactly(new double[] {Math.sqrt(45), Math.sqrt(5)}, within(1e-9));
        assertThat(svd.rankForEnergy(0.9)).isEqualTo(1);      // 45 / 50 = 0.9 exactly
        assertThat(svd.rankForEnergy(0.91)).isEqualTo(2);
    }

    @Test
    void reconstructsTallAndWideMatricesWithOrthonormalFactors() {
        for (int[] shape : new int[][] {{30, 7}, {7, 30}, {12, 12}}) {
            int m = shape[0];
            int n = shape[1];
            float[] a = random(m * n, m + n);
            Svd svd = Svd.of(a, m, n);
            int k = Math.min(m, n);
            assertThat(svd.k()).isEqualTo(k);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double r = 0;
                    for (int c = 0; c < k; c++) {
                        r += svd.u()[i * k + c] * svd.s()[c] * svd.v()[j * k + c];
                    }
                    assertThat(r).as("A[%d][%d] of %dx%d", i, j, m, n).isCloseTo(a[i * n + j], within(1e-5));
                }
            }
            for (int p = 0; p < k; p++) {
                for (int q = 0; q < k; q++) {
                    double uu = 0;
                    double vv = 0;
                    for (int i = 0; i < m; i++) {
                        uu += svd.u()[i * k + p] * svd.u()[i * k + q];
                    }
                    for (int j = 0; j < n; j++) {
                        vv += svd.v()[j * k + p] * svd.v()[j * k + q];
                    }
                    assertThat(uu).isCloseTo(p == q ? 1 : 0, within(1e-9));
                    assertThat(vv).isCloseTo(p == q ? 1 : 0, within(1e-9));
                }
                if (p > 0) {
                    assertThat(svd.s()[p]).isLessThanOrEqualTo(svd.s()[p - 1]);
                }
            }
        }
    }

    /** Eckart–Young: the rank-r factors leave a Frobenius error of √(Σ_{c ≥ r} s_c²). */
    @Test
    void truncatedFactorsAreTheBestRankRApproximation() {
        int m = 20;
        int n = 9;
        float[] a = random(m * n, 3);
        Svd svd = Svd.of(a, m, n);
        for (int r = 1; r <= n; r++) {
            float[][] f = svd.factors(r);
            double err = 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double x = 0;
                    for (int c = 0; c < r; c++) {
                        x += f[0][i * r + c] * f[1][c * n + j];
                    }
                    err += (a[i * n + j] - x) * (a[i * n + j] - x);
                }
            }
            double tail = 0;
            for (int c = r; c < n; c++) {
                tail += svd.s()[c] * svd.s()[c];
            }
            assertThat(Math.sqrt(err)).as("rank %d", r).isCloseTo(Math.sqrt(tail), within(1e-4));
        }
        assertThatThrownBy(() -> svd.factors(10)).hasMessage("rank 10 is outside [1, 9]");
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
