package dev.distill.teacher;

import dev.distill.student.loss.DistillationLoss;

import java.util.List;

/**
 * Several teachers labelling as one: the ensemble's output is the log of the mean of the members'
 * probabilities (MEAL V2, Shen &amp; Savvides 2020; the usual ensemble of classifiers),
 *
 * <pre>
 *   t_c = log( (1/M) · Σ_m softmax(z_m)_c )
 *       = a_c + log Σ_m exp(z_mc − lse(z_m) − a_c) − log M,   a_c = max_m (z_mc − lse(z_m))
 * </pre>
 *
 * computed in the second, overflow-free form. These are log-probabilities, so {@code softmax(t)} is the
 * mean distribution exactly; at a temperature T the student's target is {@code softmax(t / T)}, the mean
 * distribution sharpened or flattened as it would be for one teacher's log-probabilities. Members may mix
 * DL4J and ONNX models; each must have the same classes and take the same rows.
 */
public final class EnsembleTeacher implements Teacher, AutoCloseable {
    private final List<Teacher> members;
    private final int numClasses;
    private final int featureLength;

    /** {@code names} name the members in messages, in the same order. */
    public EnsembleTeacher(List<Teacher> members, List<String> names) {
        if (members.size() < 2) {
            throw new IllegalArgumentException("an ensemble needs at least two teachers, got " + members.size());
        }
        this.members = List.copyOf(members);
        this.numClasses = members.get(0).numClasses();
        this.featureLength = members.get(0).featureLength();
        for (int m = 1; m < members.size(); m++) {
            if (members.get(m).numClasses() != numClasses) {
                throw new IllegalArgumentException("teacher " + names.get(m) + " has " + members.get(m).numClasses()
                        + " output classes but teacher " + names.get(0) + " has " + numClasses
                        + ": an ensemble's teachers must share their classes");
            }
        }
    }

    @Override
    public float[] logits(float[] features, int rows) {
        int c = numClasses;
        int m = members.size();
        // Each member's log-probabilities z − lse(z), row by row.
        double[][] logp = new double[m][rows * c];
        double[] row = new double[c];
        for (int k = 0; k < m; k++) {
            float[] z = members.get(k).logits(features, rows);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < c; j++) {
                    row[j] = z[r * c + j];
                }
                double lse = DistillationLoss.logSumExp(row);
                for (int j = 0; j < c; j++) {
                    logp[k][r * c + j] = row[j] - lse;
                }
            }
        }
        // Per class, log of the mean over members: lse over members − log M.
        float[] out = new float[rows * c];
        double logM = Math.log(m);
        double[] across = new double[m];
        for (int i = 0; i < rows * c; i++) {
            for (int k = 0; k < m; k++) {
                across[k] = logp[k][i];
            }
            out[i] = (float) (DistillationLoss.logSumExp(across) - logM);
        }
        return out;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int featureLength() {
        return featureLength;
    }

    /** The members' parameters together. */
    @Override
    public long parameters() {
        return members.stream().mapToLong(Teacher::parameters).sum();
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        for (Teacher t : members) {
            if (t instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    first = first == null ? e : first;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
