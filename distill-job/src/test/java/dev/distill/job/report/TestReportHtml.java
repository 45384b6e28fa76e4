package dev.distill.job.report;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class TestReportHtml {
    @TempDir
    Path dir;

    /** A report of 3 classes, 5 epochs and 3 stages. */
    static Report report() {
        List<Report.StageRow> stages = List.of(stage("teacher fp32", "ND4J", 0.9, 4_000_000),
                stage("student fp32", "ND4J", 0.85, 40_000), stage("student int8 file", "distill-rt", 0.849, 9_000));
        return new Report("conf/<odd> & name.conf", "2026-11-28T00:00:00Z", "out/x", null,
                model(0.9, 1_000_000, 4_000_000, false, List.of(0.95, 0.9, 0.85)),
                model(0.85, 10_000, 40_000, true, List.of(0.9, 0.8, 0.85)),
                model(0.84, 10_000, 40_100, true, List.of(0.88, 0.8, 0.84)),
                new Report.Summary(1.0, 100, 100), stages, Map.of("distill", "test"), null);
    }

    private static Report.StageRow stage(String name, String engine, double acc, long bytes) {
        return new Report.StageRow(name, engine, acc, 0.95, 10_000, bytes, 4_000_000.0 / bytes, 0.01, 0.02, 1e5, null);
    }

    private static Report.Scores model(double acc, long params, long bytes, boolean trained, List<Double> perClass) {
        long[][] confusion = {{90, 5, 5}, {10, 80, 10}, {0, 15, 85}};
        List<Report.Epoch> history = new ArrayList<>();
        for (int e = 1; e <= 5; e++) {
            history.add(new Report.Epoch(e, 1.0 / e, acc - 0.1 / e, 1000, 4, 1.5));
        }
        return new Report.Scores(acc, 300, perClass, confusion, trained ? 0.93 : null, trained ? 0.07 : null, null,
                null, params, "m.zip", bytes, trained ? history : null);
    }

    private static int count(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void everyChartAndTheHeadlineTableFromTheReport() {
        String html = ReportHtml.render(report());
        for (String id : ReportHtml.CHARTS) {
            assertThat(html).contains("<figure id=\"" + id + "\">");
        }
        assertThat(count(html, "<svg ")).isEqualTo(4);
        assertThat(count(html, "<tr><td>")).as("teacher, student, baseline rows").isEqualTo(3);
        assertThat(html).contains("<td>student</td><td>85.00%</td><td>10,000</td><td>40,000</td><td>93.00%</td><td>0.0700</td>");
        assertThat(html).contains("Distillation gain over the hard-label baseline: <b>+1.00 points</b>");
        // Loss and accuracy of student and baseline: four lines of five epochs each.
        Matcher lines = Pattern.compile("<polyline class=\"series\"[^>]*points=\"([^\"]*)\"").matcher(html);
        int series = 0;
        while (lines.find()) {
            assertThat(lines.group(1).split(" ")).hasSize(5);
            series++;
        }
        assertThat(series).isEqualTo(4);
        assertThat(count(html, "<circle class=\"stage\"")).isEqualTo(3);
        assertThat(count(html, "<rect class=\"cell\"")).isEqualTo(9);
        assertThat(html).contains("<title>true 1, predicted 2: 10 (10.0%)</title>");
        assertThat(count(html, "<rect class=\"bar\"")).isEqualTo(6);
        assertThat(html).contains("conf/&lt;odd&gt; &amp; name.conf");
    }

    /**
     * With kd.dataset.class-names, the confusion matrix and the per-class chart are labelled by name (long names
     * shortened on the axes, whole in the tooltips, escaped), and report.json carries the names.
     */
    @Test
    void namedClassesLabelTheConfusionMatrixAndThePerClassChart() {
        Report r = report();
        Report named = new Report(r.jobFile(), r.createdAt(), r.outputDir(),
                List.of("T-shirt/top", "Trouser & co", "An ankle boot with a long name"), r.teacher(), r.student(),
                r.baseline(), r.summary(), r.stages(), r.versions(), null);
        String html = ReportHtml.render(named);
        assertThat(html).contains("<title>true Trouser &amp; co, predicted An ankle boot with a long name: 10 (10.0%)</title>",
                "<title>student, class T-shirt/top: 90.00%</title>",
                "<title>teacher, class An ankle boot with a long name: 85.00%</title>");
        // Row labels, slanted column labels, slanted bar labels: three of each name.
        assertThat(count(html, "<text class=\"class\"[^>]*>T-shirt/top</text>")).isEqualTo(3);
        assertThat(count(html, "<text class=\"class\"[^>]*>Trouser &amp; co</text>")).isEqualTo(3);
        assertThat(count(html, "<text class=\"class\"[^>]*>An ankle boot w\u2026</text>")).isEqualTo(3);
        assertThat(count(html, "<text class=\"class\"[^>]*transform=\"rotate\\(-45 ")).isEqualTo(6);
        assertThat(ReportHtml.render(r)).contains("<title>true 1, predicted 2: 10 (10.0%)</title>")
                .doesNotContain("rotate(-45");
        Map<String, Object> json = dev.distill.job.Json.read(dev.distill.job.Json.write(named));
        assertThat(json.get("class_names")).isEqualTo(named.classNames());
        assertThat(dev.distill.job.Json.read(dev.distill.job.Json.write(r))).doesNotContainKey("class_names");
    }

    @Test
    void thePageFetchesNothing() {
        String html = ReportHtml.render(report());
        assertThat(html).doesNotContain("src=", "href=", "url(", "@import", "<script", "<link");
        assertThat(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "")).doesNotContain("http");
    }

    @Test
    void ticksAreRoundNumbersCoveringTheRange() {
        assertThat(ReportHtml.ticks(0, 1)).containsExactly(0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0);
        assertThat(ReportHtml.ticks(1, 30)).containsExactly(5.0, 10.0, 15.0, 20.0, 25.0, 30.0);
        assertThat(ReportHtml.ticks(2, 2)).isEmpty();
    }

    /** Headless Chromium (Debian's {@code chromium}), or null; CI installs it and must have it. */
    static String chromium() {
        for (String name : new String[] {"chromium", "chromium-headless-shell", "google-chrome"}) {
            for (String p : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
                if (Files.isExecutable(Path.of(p, name))) {
                    return Path.of(p, name).toString();
                }
            }
        }
        if (System.getenv("CI") != null) {
            throw new AssertionError("chromium is not installed: `apt-get install chromium` (.ci/run does)");
        }
        return null;
    }

    static String runChromium(Path dir, String... args) throws Exception {
        String exe = chromium();
        Assumptions.assumeTrue(exe != null, "headless chromium not installed (apt-get install chromium)");
        List<String> cmd = new ArrayList<>(List.of(exe, "--headless", "--no-sandbox", "--disable-gpu",
                "--hide-scrollbars", "--user-data-dir=" + dir.resolve("profile")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("chromium.err").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium finished").isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("chromium.err"))).isZero();
        return out;
    }

    /**
     * The page renders in headless Chromium: its DOM after parsing holds every chart, and the screenshot
     * shows the student's blue, the teacher's grey and the baseline's orange.
     */
    @Test
    void rendersInHeadlessChromium() throws Exception {
        Path html = dir.resolve("report.html");
        Files.writeString(html, ReportHtml.render(report()));
        String dom = runChromium(dir, "--dump-dom", html.toUri().toString());
        for (String id : ReportHtml.CHARTS) {
            assertThat(dom).contains("<figure id=\"" + id + "\">");
        }
        assertThat(count(dom, "<svg ")).isEqualTo(4);
        Path png = dir.resolve("report.png");
        runChromium(dir, "--window-size=1100,1900", "--screenshot=" + png, html.toUri().toString());
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1100);
        assertThat(image.getHeight()).isEqualTo(1900);
        assertThat(pixels(image, 0x1f6fb4)).as("student blue pixels").isGreaterThan(2000);
        assertThat(pixels(image, 0x6b6b6b)).as("teacher grey pixels").isGreaterThan(2000);
        assertThat(pixels(image, 0xd9822b)).as("baseline orange pixels").isGreaterThan(200);
    }

    private static int pixels(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                n += (image.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
        }
        return n;
    }
}
