package dev.distill.student.compress;

/**
 * Thin singular value decomposition of a row-major {@code m × n} matrix, {@code A = U · diag(s) · Vᵀ}, by
 * one-sided Jacobi rotations (Hestenes 1958): columns are rotated in pairs until all are orthogonal; their
 * norms are then the singular values. Accurate to working precision (double), with no native code; fine
 * for layer-sized matrices (a 784 × 128 layer takes milliseconds).
 *
 * @param u m × k row-major, orthonormal columns (k = min(m, n))
 * @param s k singular values, descending
 * @param v n × k row-major, orthonormal columns
 */
public record Svd(int m, int n, int k, double[] u, double[] s, double[] v) {
    private static final int MAX_SWEEPS = 60;

    public static Svd of(float[] a, int m, int n) {
        if ((long) m * n != a.length) {
            throw new IllegalArgumentException(a.length + " values do not form a " + m + " × " + n + " matrix");
        }
        if (m < n) {
            // A = U S Vᵀ  ⇔  Aᵀ = V S Uᵀ
            float[] t = new float[a.length];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    t[j * m + i] = a[i * n + j];
                }
            }
            Svd r = of(t, n, m);
            return new Svd(m, n, r.k, r.v, r.s, r.u);
        }
        // Work on columns: w[j] is column j of A (length m); vt[j] column j of V (length n).
        double[][] w = new double[n][m];
        double[][] vc = new double[n][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                w[j][i] = a[i * n + j];
            }
        }
        for (int j = 0; j < n; j++) {
            vc[j][j] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double alpha = dot(w[p], w[p]);
                    double beta = dot(w[q], w[q]);
                    double gamma = dot(w[p], w[q]);
                    if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma == 0) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta == 0 ? 1 : zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    double c = 1 / Math.sqrt(1 + t * t);
                    double sn = c * t;
                    rotate(w[p], w[q], c, sn);
                    rotate(vc[p], vc[q], c, sn);
                }
            }
            if (!rotated) {
                break;
            }
        }
        Integer[] order = new Integer[n];
        double[] norms = new double[n];
        for (int j = 0; j < n; j++) {
            order[j] = j;
            norms[j] = Math.sqrt(dot(w[j], w[j]));
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(norms[y], norms[x]));
        double[] u = new double[m * n];
        double[] s = new double[n];
        double[] v = new double[n * n];
        for (int r = 0; r < n; r++) {
            int j = order[r];
            s[r] = norms[j];
            for (int i = 0; i < m; i++) {
                u[i * n + r] = s[r] > 0 ? w[j][i] / s[r] : 0;
            }
            for (int i = 0; i < n; i++) {
                v[i * n + r] = vc[j][i];
            }
        }
        return new Svd(m, n, n, u, s, v);
    }

    /** The smallest rank whose singular values keep at least {@code fraction} of the energy Σ s². */
    public int rankForEnergy(double fraction) {
        double total = 0;
        for (double x : s) {
            total += x * x;
        }
        double kept = 0;
        for (int r = 0; r < k; r++) {
            kept += s[r] * s[r];
            if (kept >= fraction * total - 1e-12 * total) {
                return r + 1;
            }
        }
        return k;
    }

    /**
     * The rank-{@code r} factors {@code A ≈ L · R} with the singular values split evenly, {@code L = U_r ·
     * √S_r} (m × r) and {@code R = √S_r · V_rᵀ} (r × n), both row-major floats.
     */
    public float[][] factors(int r) {
        if (r < 1 || r > k) {
            throw new IllegalArgumentException("rank " + r + " is outside [1, " + k + "]");
        }
        float[] left = new float[m * r];
        float[] right = new float[r * n];
        for (int c = 0; c < r; c++) {
            double root = Math.sqrt(s[c]);
            for (int i = 0; i < m; i++) {
                left[i * r + c] = (float) (u[i * k + c] * root);
            }
            for (int j = 0; j < n; j++) {
                right[c * n + j] = (float) (v[j * k + c] * root);
            }
        }
        return new float[][] {left, right};
    }

    private static double dot(double[] x, double[] y) {
        double d = 0;
        for (int i = 0; i < x.length; i++) {
            d += x[i] * y[i];
        }
        return d;
    }

    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int i = 0; i < x.length; i++) {
            double a = x[i];
            double b = y[i];
            x[i] = c * a - s * b;
            y[i] = s * a + c * b;
        }
    }
}
