package dev.distill.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code distill compare} measured ({@code report/compare.json}, and the {@code comparison} section of
 * {@code report.json} and {@code report.html}): the same student trained with each method (each with its
 * epochs) over several seeds, scored on a validation split held out of the training rows and on the test split.
 * The best hard-label method is the one with the highest mean validation accuracy; every method's gain is its
 * mean test accuracy minus that method's, with the standard error of that difference of means,
 * {@code sqrt(s_a²/n_a + s_b²/n_b)} (s: sample standard deviation over seeds); a gain is significant when it
 * is above two standard errors (a one-sided level of about 97.7% for normal errors, nearer 93% for Student's t
 * with 4 degrees of freedom, i.e. 3 seeds a side: a rough guide, not a test).
 *
 * @param teacherId           the teacher's file name, or "ensemble of …"
 * @param teacherTestAccuracy the teacher's accuracy on the test split (from its soft labels); null when unknown
 * @param bestHardLabelMethod null when no hard-label method was trained
 */
public record Comparison(String createdAt, String jobFile, int seeds, long parameters, String teacherId,
                         String teacherSha256, Double teacherTestAccuracy, long trainRows, long labelledTrainRows,
                         long validationRows, long testRows, String augmentation, String bestHardLabelMethod,
                         List<Method> methods) {

    /**
     * One method over the seeds: its accuracies in seed order, their mean and sample standard deviation (0 for
     * one seed), and on the test split its gain over the best hard-label method (points), the standard error of
     * that gain and whether it exceeds two standard errors (null for the best hard-label method itself).
     */
    public record Method(String name, String loss, Map<String, Object> settings, boolean hardLabels, boolean augment,
                         boolean views, int epochs, List<Double> validationAccuracy, List<Double> testAccuracy,
                         double validationMean, double validationStd, double testMean, double testStd,
                         Double gainPoints, Double gainStandardError, Boolean significant, double secondsPerSeed) {
    }

    /** Mean of {@code xs}. */
    public static double mean(List<Double> xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.size();
    }

    /** Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values. */
    public static double std(List<Double> xs) {
        if (xs.size() < 2) {
            return 0;
        }
        double m = mean(xs);
        double s = 0;
        for (double x : xs) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (xs.size() - 1));
    }

    /** A method's raw results, before the gains are known. */
    public record Measured(String name, String loss, Map<String, Object> settings, boolean hardLabels, boolean augment,
                           boolean views, int epochs, List<Double> validation, List<Double> test, double secondsPerSeed) {
    }

    /**
     * The methods with their means, deviations and gains over the best hard-label method (by mean validation
     * accuracy); returns them in the given order, and the best hard-label method's name through {@code best[0]}.
     */
    public static List<Method> withGains(List<Measured> measured, String[] best) {
        Measured ref = null;
        for (Measured m : measured) {
            if (m.hardLabels() && (ref == null || mean(m.validation()) > mean(ref.validation()))) {
                ref = m;
            }
        }
        best[0] = ref == null ? null : ref.name();
        List<Method> out = new ArrayList<>();
        for (Measured m : measured) {
            Double gain = null;
            Double se = null;
            Boolean significant = null;
            if (ref != null && m != ref) {
                gain = 100 * (mean(m.test()) - mean(ref.test()));
                se = 100 * Math.sqrt(sq(std(m.test())) / m.test().size() + sq(std(ref.test())) / ref.test().size());
                significant = m.test().size() > 1 && ref.test().size() > 1 && gain > 2 * se;
            }
            out.add(new Method(m.name(), m.loss(), m.settings(), m.hardLabels(), m.augment(), m.views(), m.epochs(),
                    m.validation(),
                    m.test(), mean(m.validation()), std(m.validation()), mean(m.test()), std(m.test()), gain, se,
                    significant, m.secondsPerSeed()));
        }
        return out;
    }

    private static double sq(double x) {
        return x * x;
    }

    /** The comparison as a console table. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format("comparison: %d seed%s, %,d-parameter student; trained on %,d rows (%,d"
                        + " labelled), validation %,d rows held out of them, test %,d rows%s%n", seeds,
                seeds == 1 ? "" : "s", parameters, trainRows, labelledTrainRows, validationRows, testRows,
                augmentation == null ? "" : "; augmentation: " + augmentation));
        if (teacherId != null) {
            b.append(String.format("teacher: %s%s%n", teacherId, teacherTestAccuracy == null ? ""
                    : String.format(", %.2f%% on the test split", 100 * teacherTestAccuracy)));
        }
        b.append(String.format("%-28s %6s %16s %16s %22s %7s %7s%n", "method", "epochs", "validation acc", "test acc",
                "test gain vs best hard", "> 2 SE", "s/seed"));
        for (Method m : methods) {
            b.append(String.format("%-28s %6d %16s %16s %22s %7s %7.0f%n", cut(m.name(), 28), m.epochs(),
                    pm(m.validationMean(), m.validationStd()), pm(m.testMean(), m.testStd()),
                    m.gainPoints() == null ? (m.name().equals(bestHardLabelMethod) ? "(best hard-label)" : "-")
                            : String.format("%+.2f ± %.2f", m.gainPoints(), m.gainStandardError()),
                    m.significant() == null ? "" : m.significant() ? "yes" : "no", m.secondsPerSeed()));
        }
        b.append("mean ± sample standard deviation over seeds, in %; gain ± its standard error, in points; the best"
                + " hard-label method is chosen on validation").append(System.lineSeparator());
        return b.toString();
    }

    static String pm(double mean, double std) {
        return String.format("%.2f ± %.2f", 100 * mean, 100 * std);
    }

    private static String cut(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }
}
