package dev.distill.student;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Counts from comparing a model's predictions with hard labels and with the teacher: the confusion matrix
 * (rows = true class, columns = predicted), argmax agreement with the teacher, and the sum of
 * KL(softmax(t) ‖ softmax(z)) at temperature 1. Partial evaluations from partitions are merged with {@link #add}.
 */
public final class Evaluation implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long[][] confusion;
    private long rows;
    private long agree;
    private double klSum;

    public Evaluation(int numClasses) {
        this.confusion = new long[numClasses][numClasses];
    }

    /** Records one row: the model's logits, the teacher's logits (or null) and the hard label (or null). */
    public void record(float[] logits, float[] teacher, Integer label) {
        recordPrediction(argmax(logits), teacher, label);
        if (teacher != null) {
            klSum += kl(teacher, logits);
        }
    }

    /**
     * Records one row by its predicted class only (no logits, so no KL): the confusion matrix and the
     * agreement with the teacher's logits (or null).
     */
    public void recordPrediction(int pred, float[] teacher, Integer label) {
        rows++;
        if (label != null) {
            confusion[label][pred]++;
        }
        if (teacher != null && argmax(teacher) == pred) {
            agree++;
        }
    }

    public Evaluation add(Evaluation o) {
        for (int i = 0; i < confusion.length; i++) {
            for (int j = 0; j < confusion.length; j++) {
                confusion[i][j] += o.confusion[i][j];
            }
        }
        rows += o.rows;
        agree += o.agree;
        klSum += o.klSum;
        return this;
    }

    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best]) {
                best = i;
            }
        }
        return best;
    }

    /** KL(softmax(t) ‖ softmax(z)), computed through log-softmax for stability. */
    static double kl(float[] t, float[] z) {
        double lt = lse(t);
        double lz = lse(z);
        double kl = 0;
        for (int k = 0; k < t.length; k++) {
            double logP = t[k] - lt;
            kl += Math.exp(logP) * (logP - (z[k] - lz));
        }
        return kl;
    }

    private static double lse(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return dev.distill.student.loss.DistillationLoss.logSumExp(d);
    }

    public long rows() {
        return rows;
    }

    public long labelled() {
        long n = 0;
        for (long[] row : confusion) {
            for (long v : row) {
                n += v;
            }
        }
        return n;
    }

    public double accuracy() {
        long correct = 0;
        for (int i = 0; i < confusion.length; i++) {
            correct += confusion[i][i];
        }
        long n = labelled();
        return n == 0 ? Double.NaN : (double) correct / n;
    }

    public double[] perClassAccuracy() {
        double[] acc = new double[confusion.length];
        for (int i = 0; i < confusion.length; i++) {
            long n = 0;
            for (long v : confusion[i]) {
                n += v;
            }
            acc[i] = n == 0 ? Double.NaN : (double) confusion[i][i] / n;
        }
        return acc;
    }

    public double teacherAgreement() {
        return rows == 0 ? Double.NaN : (double) agree / rows;
    }

    public double meanKlToTeacher() {
        return rows == 0 ? Double.NaN : klSum / rows;
    }

    public long[][] confusion() {
        long[][] copy = new long[confusion.length][];
        for (int i = 0; i < confusion.length; i++) {
            copy[i] = confusion[i].clone();
        }
        return copy;
    }

    public Map<String, Object> toMap(boolean withTeacher) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("test_accuracy", accuracy());
        m.put("test_rows", labelled());
        m.put("per_class_accuracy", perClassAccuracy());
        m.put("confusion_matrix", confusion());
        if (withTeacher) {
            m.put("teacher_agreement", teacherAgreement());
            m.put("mean_kl_to_teacher", meanKlToTeacher());
        }
        return m;
    }
}
