package dev.distill.job.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * {@code report/report.html}: the report as one self-contained page (inline SVG and CSS, no script, nothing
 * fetched), drawn from the same {@link Report} record as {@code report.json}. Charts, each a {@code <figure>} with an id:
 * {@code curves} (loss and test accuracy per epoch of the student and its baseline), {@code size}
 * (accuracy against file size for every stage), {@code confusion} (the student's confusion matrix as a
 * heat map) and {@code per-class} (per-class accuracy of teacher and student side by side), after the
 * headline table.
 */
public final class ReportHtml {
    public static final String[] CHARTS = {"curves", "size", "confusion", "per-class"};
    private static final String TEACHER = "#6b6b6b";
    private static final String STUDENT = "#1f6fb4";
    private static final String BASELINE = "#d9822b";

    private static final String HEAD = """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>distill report</title>
                <style>
                body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
                table { border-collapse: collapse; margin: 8px 0 24px; }
                th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
                th:first-child, td:first-child { text-align: left; }
                figure { margin: 0 0 28px; } figcaption { font-weight: 600; margin-bottom: 4px; }
                svg text { font: 11px system-ui, sans-serif; fill: #333; }
                .note { color: #666; }
                </style></head><body>
                """;

    private ReportHtml() {
    }

    public static String render(Report report) {
        Report.Scores teacher = report.teacher();
        Report.Scores student = report.student();
        Report.Scores baseline = report.baseline();
        StringBuilder b = new StringBuilder(HEAD);
        b.append("<h1>distill report</h1>\n<p class=\"note\">").append(esc(String.valueOf(report.jobFile())))
                .append(" &middot; ").append(esc(String.valueOf(report.createdAt()))).append(" &middot; ")
                .append(esc(String.valueOf(report.outputDir()))).append("</p>\n");
        headline(b, teacher, student, baseline, report.summary());
        if (student != null) {
            figure(b, "curves", "Training curves: loss and test accuracy per epoch",
                    curves(student, baseline));
        }
        List<Report.StageRow> stages = report.stages();
        if (stages != null && !stages.isEmpty()) {
            figure(b, "size", "Test accuracy against file size (every stage)", sizeChart(stages));
        }
        if (student != null) {
            figure(b, "confusion", "Student confusion matrix (rows: true class, columns: predicted; share of the row)",
                    confusion(student.confusionMatrix(), report));
            figure(b, "per-class", "Per-class test accuracy, teacher and student",
                    perClass(teacher == null ? null : teacher.perClassAccuracy(), student.perClassAccuracy(), report));
        }
        if (report.comparison() != null) {
            comparison(b, report.comparison());
        }
        return b.append("</body></html>\n").toString();
    }

    /** A page of its own for a comparison made before any report (no evaluate yet). */
    public static String renderComparison(Comparison c) {
        StringBuilder b = new StringBuilder(HEAD);
        b.append("<h1>distill compare</h1>\n<p class=\"note\">").append(esc(String.valueOf(c.jobFile())))
                .append(" &middot; ").append(esc(String.valueOf(c.createdAt()))).append("</p>\n");
        comparison(b, c);
        return b.append("</body></html>\n").toString();
    }

    /** The comparison table and the {@code comparison} chart: each method's test accuracy, mean ± std, per seed. */
    static void comparison(StringBuilder b, Comparison c) {
        b.append("<h2 id=\"compare\">Methods compared over ").append(c.seeds()).append(" seed")
                .append(c.seeds() == 1 ? "" : "s").append("</h2>\n<p class=\"note\">The same ")
                .append(fmt("%,d", c.parameters())).append("-parameter student; trained on ").append(fmt("%,d", c.trainRows())).append(" rows (")
                .append(fmt("%,d", c.labelledTrainRows())).append(" labelled); validation ")
                .append(fmt("%,d", c.validationRows())).append(" rows held out of them; test ")
                .append(fmt("%,d", c.testRows())).append(" rows. Mean &plusmn; sample standard deviation; the gain is"
                        + " over the best hard-label method on validation (")
                .append(esc(String.valueOf(c.bestHardLabelMethod()))).append("), &plusmn; its standard error;"
                        + " significant when above two standard errors.");
        if (c.teacherId() != null) {
            b.append(" Teacher: ").append(esc(c.teacherId())).append(c.teacherTestAccuracy() == null ? ""
                    : fmt(", %.2f%% on the test split", 100 * c.teacherTestAccuracy())).append('.');
        }
        b.append("</p>\n");
        b.append("<table id=\"comparison\"><tr><th>method</th><th>loss</th><th>epochs</th><th>validation accuracy</th>"
                + "<th>test accuracy</th><th>gain (points)</th><th>&gt; 2 SE</th></tr>\n");
        for (Comparison.Method m : c.methods()) {
            b.append("<tr><td>").append(esc(m.name())).append("</td><td>").append(esc(m.loss()))
                    .append(m.augment() ? " + augment" : "").append("</td><td>").append(m.epochs()).append("</td><td>")
                    .append(esc(Comparison.pm(m.validationMean(), m.validationStd()))).append("</td><td>")
                    .append(esc(Comparison.pm(m.testMean(), m.testStd()))).append("</td><td>")
                    .append(m.gainPoints() == null ? (m.name().equals(c.bestHardLabelMethod()) ? "best hard-label" : "&ndash;")
                            : esc(fmt("%+.2f", m.gainPoints()) + " ± " + fmt("%.2f", m.gainStandardError())))
                    .append("</td><td>").append(m.significant() == null ? "" : m.significant() ? "yes" : "no")
                    .append("</td></tr>\n");
        }
        b.append("</table>\n");
        figure(b, "comparison-chart", "Test accuracy by method: each seed (dots), mean and ±1 std (bar)",
                comparisonChart(c));
    }

    private static String comparisonChart(Comparison c) {
        List<Comparison.Method> ms = c.methods();
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (Comparison.Method m : ms) {
            for (double v : m.testAccuracy()) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            lo = Math.min(lo, m.testMean() - m.testStd());
            hi = Math.max(hi, m.testMean() + m.testStd());
        }
        double pad = Math.max(0.002, (hi - lo) * 0.1);
        lo -= pad;
        hi += pad;
        int rowH = 26;
        int left = 220;
        int width = 700;
        StringBuilder b = svg(left + width + 40, ms.size() * rowH + 40);
        for (int t = 0; t <= 4; t++) {
            double v = lo + (hi - lo) * t / 4;
            double x = left + width * t / 4.0;
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"10\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.2f%%</text>%n", x, x, ms.size() * rowH + 12, x,
                    ms.size() * rowH + 28, 100 * v));
        }
        for (int i = 0; i < ms.size(); i++) {
            Comparison.Method m = ms.get(i);
            double y = 10 + i * rowH + rowH / 2.0;
            String colour = m.hardLabels() ? BASELINE : STUDENT;
            double finalLo = lo;
            double finalHi = hi;
            java.util.function.DoubleUnaryOperator sx = v -> left + width * (v - finalLo) / (finalHi - finalLo);
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n", left - 8,
                    y + 4, esc(m.name())));
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\""
                            + " stroke-width=\"6\" opacity=\"0.35\"/>%n", sx.applyAsDouble(m.testMean() - m.testStd()), y,
                    sx.applyAsDouble(m.testMean() + m.testStd()), y, colour));
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\""
                    + " stroke-width=\"2\"/>%n", sx.applyAsDouble(m.testMean()), y - 8, sx.applyAsDouble(m.testMean()), y + 8,
                    colour));
            for (double v : m.testAccuracy()) {
                b.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>%n",
                        sx.applyAsDouble(v), y, colour));
            }
        }
        return b.append("</svg>\n").toString();
    }

    private static void headline(StringBuilder b, Report.Scores teacher, Report.Scores student,
                                 Report.Scores baseline, Report.Summary summary) {
        b.append("<table id=\"headline\"><tr><th>model</th><th>test accuracy</th><th>parameters</th>"
                + "<th>file bytes</th><th>agreement with teacher</th><th>KL to teacher</th></tr>\n");
        row(b, "teacher", teacher);
        row(b, "student", student);
        row(b, "baseline (hard labels)", baseline);
        b.append("</table>\n");
        if (summary != null && summary.kdGainPoints() != null) {
            b.append("<p>Distillation gain over the hard-label baseline: <b>")
                    .append(fmt("%+.2f", summary.kdGainPoints()))
                    .append(" points</b> (one seed; <code>distill compare</code> measures it over several).</p>\n");
        }
    }

    private static void row(StringBuilder b, String name, Report.Scores m) {
        if (m == null) {
            return;
        }
        b.append("<tr><td>").append(esc(name)).append("</td><td>").append(pct(m.testAccuracy()))
                .append("</td><td>").append(fmt("%,d", m.parameters()))
                .append("</td><td>").append(fmt("%,d", m.modelFileBytes()))
                .append("</td><td>").append(m.teacherAgreement() != null ? pct(m.teacherAgreement()) : "&ndash;")
                .append("</td><td>").append(m.meanKlToTeacher() != null ? fmt("%.4f", m.meanKlToTeacher()) : "&ndash;")
                .append("</td></tr>\n");
    }

    private static void figure(StringBuilder b, String id, String caption, String svg) {
        b.append("<figure id=\"").append(id).append("\"><figcaption>").append(esc(caption))
                .append("</figcaption>\n").append(svg).append("</figure>\n");
    }

    /** Two panels side by side: loss, and test accuracy, per epoch. */
    private static String curves(Report.Scores student, Report.Scores baseline) {
        List<Report.Epoch> s = student.history() == null ? List.of() : student.history();
        List<Report.Epoch> h = baseline == null || baseline.history() == null ? List.of() : baseline.history();
        StringBuilder b = svg(1000, 320);
        panel(b, 0, "loss", s, h, Report.Epoch::loss, false);
        panel(b, 500, "test accuracy", s, h, e -> e.testAccuracy() == null ? Double.NaN : e.testAccuracy(), true);
        legend(b, 70, 312, new String[] {"student (distilled)", "baseline (hard labels)"}, new String[] {STUDENT, BASELINE});
        return b.append("</svg>\n").toString();
    }

    private static void panel(StringBuilder b, double x0, String title, List<Report.Epoch> s, List<Report.Epoch> h,
                              ToDoubleFunction<Report.Epoch> value, boolean percent) {
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        int epochs = 1;
        for (List<Report.Epoch> series : List.of(s, h)) {
            for (Report.Epoch e : series) {
                double v = value.applyAsDouble(e);
                if (!Double.isNaN(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
                epochs = Math.max(epochs, e.epoch());
            }
        }
        if (lo > hi) {
            lo = 0;
            hi = 1;
        }
        double pad = (hi - lo) * 0.05 + 1e-9;
        Axes a = new Axes(x0 + 60, 20, 410, 230, 1, Math.max(2, epochs), lo - pad, hi + pad);
        a.draw(b, "epoch", title, percent, true);
        a.line(b, s, value, STUDENT);
        a.line(b, h, value, BASELINE);
    }

    /**
     * Accuracy (y) against file bytes (x, log scale): one numbered point per stage, and a key under the plot
     * (stages of nearly the same size and accuracy would hide each other's labels).
     */
    private static String sizeChart(List<Report.StageRow> stages) {
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        double ylo = 1;
        double yhi = 0;
        for (Report.StageRow st : stages) {
            double bytes = Math.log10(Math.max(1, st.fileBytes()));
            lo = Math.min(lo, bytes);
            hi = Math.max(hi, bytes);
            Double acc = st.testAccuracy();
            if (acc != null) {
                ylo = Math.min(ylo, acc);
                yhi = Math.max(yhi, acc);
            }
        }
        StringBuilder b = svg(1000, 300 + 18 * stages.size());
        Axes a = new Axes(60, 20, 880, 230, Math.floor(lo), Math.ceil(hi) + (Math.ceil(hi) == Math.floor(lo) ? 1 : 0),
                Math.max(0, ylo - 0.02), Math.min(1, yhi + 0.02));
        a.drawLogX(b, "file size (bytes, log scale)", "test accuracy");
        int n = 0;
        for (Report.StageRow st : stages) {
            Double acc = st.testAccuracy();
            n++;
            String stage = st.stage();
            long bytes = st.fileBytes();
            String colour = stage.startsWith("teacher") ? TEACHER : STUDENT;
            if (acc != null) {
                double x = a.x(Math.log10(Math.max(1, bytes)));
                double y = a.y(acc);
                b.append(fmt("<circle class=\"stage\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"><title>%s: %s, %,d bytes</title></circle>\n",
                        x, y, colour, esc(stage), pct(acc), bytes));
                b.append(fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n", x, y - 9 - 10 * ((n - 1) % 2), n));
            }
            b.append(fmt("<text x=\"70\" y=\"%d\">%d  %s (%s): %s, %,d bytes</text>\n", 300 + 18 * (n - 1), n, esc(stage),
                    esc(st.engine()), pct(acc), bytes));
        }
        return b.append("</svg>\n").toString();
    }

    /** At most 16 characters of a class name for an axis (the whole name is in each tooltip). */
    private static String shortName(String name) {
        return name.length() <= 16 ? name : name.substring(0, 15) + "\u2026";
    }

    /** Pixels an axis needs beside its labels: the longest shown name, about 7 pixels a character. */
    private static int labelRoom(Report report, int classes) {
        if (report.classNames() == null) {
            return 0;
        }
        int longest = 0;
        for (int k = 0; k < classes; k++) {
            longest = Math.max(longest, shortName(report.className(k)).length());
        }
        return 7 * longest;
    }

    /**
     * Cells shaded by the share of each true class predicted as each class, with the counts written in; the
     * rows and columns are labelled by the classes' names where the job names them (columns written slanted).
     */
    private static String confusion(long[][] m, Report report) {
        int c = m == null ? 0 : m.length;
        int cell = c <= 12 ? 40 : Math.max(4, 480 / Math.max(1, c));
        boolean named = report.classNames() != null;
        int room = labelRoom(report, c);
        int left = named ? 20 + room : 60;
        int top = named ? 12 + (int) (room * 0.72) : 40;
        StringBuilder b = svg(left + 20 + c * cell + (named ? room / 2 : 0), top + 20 + c * cell);
        for (int i = 0; i < c; i++) {
            double total = 0;
            for (long v : m[i]) {
                total += v;
            }
            for (int j = 0; j < c; j++) {
                double v = m[i][j];
                double share = total == 0 ? 0 : v / total;
                int shade = (int) Math.round(255 * (1 - Math.sqrt(share)));
                b.append(fmt("<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,255)\">"
                                + "<title>true %s, predicted %s: %,d (%.1f%%)</title></rect>\n",
                        left + j * cell, top + i * cell, cell, cell, shade, shade, esc(report.className(i)),
                        esc(report.className(j)), (long) v, 100 * share));
                if (cell >= 30) {
                    b.append(fmt("<text x=\"%d\" y=\"%d\" text-anchor=\"middle\"%s>%d</text>\n", left + j * cell + cell / 2,
                            top + i * cell + cell / 2 + 4, share > 0.5 ? " style=\"fill:#fff\"" : "", (long) v));
                }
            }
            String name = esc(shortName(report.className(i)));
            b.append(fmt("<text class=\"class\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", left - 8,
                    top + i * cell + cell / 2 + 4, name));
            int x = left + i * cell + cell / 2;
            b.append(named
                    ? fmt("<text class=\"class\" x=\"%d\" y=\"%d\" transform=\"rotate(-45 %d %d)\">%s</text>\n", x, top - 8,
                            x, top - 8, name)
                    : fmt("<text class=\"class\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x, top - 8, name));
        }
        return b.append("</svg>\n").toString();
    }

    /** Teacher and student bars per class, labelled by the classes' names where the job names them (slanted). */
    private static String perClass(List<Double> teacher, List<Double> student, Report report) {
        int c = Math.max(teacher == null ? 0 : teacher.size(), student == null ? 0 : student.size());
        int group = Math.max(6, Math.min(80, 880 / Math.max(1, c)));
        boolean named = report.classNames() != null;
        int room = named ? (int) (labelRoom(report, c) * 0.72) : 0;
        StringBuilder b = svg(Math.max(400, 80 + c * group + 20), 320 + room);
        Axes a = new Axes(60, 20, c * group, 240, 0, Math.max(1, c), 0, 1);
        a.draw(b, named ? "" : "class", "test accuracy", true, false);   // names need no axis title
        double bar = group * 0.38;
        for (int k = 0; k < c; k++) {
            double x = a.x(k) + group * 0.1;
            String name = report.className(k);
            bar(b, a, x, bar, teacher, k, TEACHER, "teacher", name);
            bar(b, a, x + bar, bar, student, k, STUDENT, "student", name);
            if (c <= 40) {
                b.append(named
                        ? fmt("<text class=\"class\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" transform=\"rotate(-45 %.1f %.1f)\">%s"
                                + "</text>\n", x + bar, a.y(0) + 14, x + bar, a.y(0) + 14, esc(shortName(name)))
                        : fmt("<text class=\"class\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x + bar,
                                a.y(0) + 14, esc(name)));
            }
        }
        legend(b, 70, 310 + room, new String[] {"teacher", "student"}, new String[] {TEACHER, STUDENT});
        return b.append("</svg>\n").toString();
    }

    private static void bar(StringBuilder b, Axes a, double x, double w, List<Double> values, int k, String colour,
                            String who, String name) {
        if (values == null || k >= values.size() || values.get(k) == null || values.get(k).isNaN()) {
            return;
        }
        double v = values.get(k);
        b.append(fmt("<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                + "<title>%s, class %s: %s</title></rect>\n", x, a.y(v), w, a.y(0) - a.y(v), colour, who, esc(name), pct(v)));
    }

    private static void legend(StringBuilder b, double x, double y, String[] names, String[] colours) {
        for (int i = 0; i < names.length; i++) {
            b.append(fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                    + "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, y - 10, colours[i], x + 16, y, esc(names[i])));
            x += 16 + 8 * names[i].length() + 24;
        }
    }

    private static StringBuilder svg(int width, int height) {
        return new StringBuilder(fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
                width, height, width, height));
    }

    /** A plot area with linear scales. */
    private record Axes(double left, double top, double width, double height, double x0, double x1, double y0,
                        double y1) {
        double x(double v) {
            return left + (v - x0) / (x1 - x0) * width;
        }

        double y(double v) {
            return top + height - (v - y0) / (y1 - y0) * height;
        }

        void draw(StringBuilder b, String xLabel, String yLabel, boolean percent, boolean xTicks) {
            frame(b, xLabel, yLabel, percent);
            for (double t : xTicks ? ticks(x0, x1) : List.<Double>of()) {
                if (t == Math.rint(t)) {
                    b.append(fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%d</text>\n", x(t),
                            top + height + 14, (long) t));
                }
            }
        }

        void drawLogX(StringBuilder b, String xLabel, String yLabel) {
            frame(b, xLabel, yLabel, true);
            for (long p = (long) x0; p <= (long) x1; p++) {
                b.append(fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x(p), top + height + 14,
                        bytes(Math.pow(10, p))));
            }
        }

        /** The plot's border, axis titles, and the y grid with its tick labels (percent or plain). */
        private void frame(StringBuilder b, String xLabel, String yLabel, boolean percent) {
            b.append(fmt("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>\n",
                    left, top, width, height));
            b.append(fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", left + width / 2,
                    top + height + 30, esc(xLabel)));
            b.append(fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
                    left - 44, top + height / 2, left - 44, top + height / 2, esc(yLabel)));
            for (double t : ticks(y0, y1)) {
                b.append(fmt("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                                + "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left, y(t), left + width, y(t),
                        left - 6, y(t) + 4, percent ? fmt("%.0f%%", 100 * t) : fmt("%.3g", t)));
            }
        }

        void line(StringBuilder b, List<Report.Epoch> series, ToDoubleFunction<Report.Epoch> value, String colour) {
            if (series == null || series.isEmpty()) {
                return;
            }
            StringBuilder pts = new StringBuilder();
            for (Report.Epoch e : series) {
                double v = value.applyAsDouble(e);
                if (!Double.isNaN(v)) {
                    pts.append(pts.length() == 0 ? "" : " ").append(fmt("%.1f,%.1f", x(e.epoch()), y(v)));
                }
            }
            b.append("<polyline class=\"series\" fill=\"none\" stroke=\"").append(colour)
                    .append("\" stroke-width=\"2\" points=\"").append(pts).append("\"/>\n");
        }
    }

    /** About five round tick values covering [lo, hi]. */
    static List<Double> ticks(double lo, double hi) {
        double span = hi - lo;
        List<Double> out = new ArrayList<>();
        if (!(span > 0)) {
            return out;
        }
        double step = Math.pow(10, Math.floor(Math.log10(span / 5)));
        for (double m : new double[] {2, 5, 10}) {
            if (span / step <= 6) {
                break;
            }
            step = Math.pow(10, Math.floor(Math.log10(span / 5))) * m;
        }
        for (double t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
            out.add(Math.abs(t) < step * 1e-9 ? 0 : t);
        }
        return out;
    }

    private static String bytes(double v) {
        return v >= 1e9 ? fmt("%.0f GB", v / 1e9) : v >= 1e6 ? fmt("%.0f MB", v / 1e6) : v >= 1e3 ? fmt("%.0f kB", v / 1e3)
                : fmt("%.0f B", v);
    }

    private static String pct(Double v) {
        return v == null || v.isNaN() ? "&ndash;" : fmt("%.2f%%", 100 * v);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
