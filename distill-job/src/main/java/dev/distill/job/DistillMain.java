package dev.distill.job;

import dev.distill.settings.SettingsException;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code distill <command> <job.conf> [-Dkey=value ...]}: the one entry point, for the local launcher
 * ({@code bin/distill}) and for {@code spark-submit --class dev.distill.job.DistillMain <job jar> ...}.
 * Exit codes: 0 success; 2 usage or configuration error (nothing was run); 1 failure at run time. A
 * failure prints its cause in one line; the stack trace goes to the log file named in that line.
 */
public final class DistillMain {
    static final List<String> COMMANDS = List.of("train-teacher", "label", "train-student", "export", "evaluate", "run",
            "bench");

    static final String USAGE = """
            usage: distill <command> <job.conf> [-Dkey=value ...] [--force] [--quiet]

            commands:
              train-teacher   train the teacher architecture on hard labels     -> teacher/model.zip
              label           run the teacher over the data set                 -> soft-labels/{train,test}/ (Parquet)
              train-student   distil the student from the soft labels, and
                              train its hard-label baseline                     -> student/, baseline/
              export          the deployable student with provenance, and the
                              int8 file for the runtime                         -> export/
              evaluate        accuracy, agreement with the teacher, sizes, and
                              latency of each deployable stage                  -> report/report.json
              run             all of the above, in order, skipping stages that are up to date
              bench           throughput ratios: labelling via Spark vs raw ND4J, trainer vs plain
                              fit(), 2 workers vs 1; plus the last run's accuracy  -> report/bench.json

            -Dkey=value overrides the job file, e.g. -Dkd.student.training.epochs=3
            --force      run: redo every stage, even those whose outputs are up to date
            -q, --quiet  print nothing but warnings and errors (for scripts; the exit code and
                         report/report.json say how it went, report/metrics.jsonl has one line per epoch)
            keys and defaults: the reference.conf of each module (datasets, teacher, student, distill-job)
            """;

    private DistillMain() {
    }

    public static void main(String[] args) {
        int code = run(args, System.out, System.err);
        System.exit(code);
    }

    /** Runs a command and returns the exit code; never calls System.exit (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> positional = new ArrayList<>();
        Map<String, String> overrides = new LinkedHashMap<>();
        boolean quiet = false;
        boolean force = false;
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help") || a.equals("help")) {
                out.print(USAGE);
                return 0;
            }
            if (a.equals("-q") || a.equals("--quiet")) {
                quiet = true;
                continue;
            }
            if (a.equals("--force")) {
                force = true;
                continue;
            }
            if (a.startsWith("-D") && a.contains("=")) {
                overrides.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else if (a.startsWith("-")) {
                err.println("distill: unknown option " + a);
                err.print(USAGE);
                return 2;
            } else {
                positional.add(a);
            }
        }
        if (positional.size() != 2 || !COMMANDS.contains(positional.get(0))) {
            err.println(positional.isEmpty() ? "distill: missing command"
                    : !COMMANDS.contains(positional.get(0)) ? "distill: unknown command '" + positional.get(0) + "'"
                    : "distill: expected a command and one job file, got " + positional);
            err.print(USAGE);
            return 2;
        }
        String command = positional.get(0);
        String jobFile = positional.get(1);
        JobSettings settings;
        try {
            settings = JobSettings.from(JobConfig.load(new File(jobFile), overrides));
        } catch (SettingsException e) {
            err.println("distill: configuration error in " + jobFile + ":");
            err.println(e.getMessage().startsWith(e.problems().size() + " configuration problems")
                    ? e.getMessage() : "  " + e.getMessage());
            return 2;
        }
        String log = openLog(settings.outputDir());
        consoleThreshold(quiet);
        if (quiet) {
            out = new PrintStream(java.io.OutputStream.nullOutputStream());
        }
        Logger trace = LoggerFactory.getLogger("dev.distill.trace");
        SparkSession spark = null;
        try {
            spark = SparkSessions.create(settings);
            JobContext ctx = new JobContext(settings, spark, jobFile);
            execute(command, ctx, out, force);
            return 0;
        } catch (Throwable e) {
            trace.error("distill " + command + " failed", e);
            err.println("distill: " + command + " failed: " + Failures.oneLine(e));
            err.println("distill: details in " + log);
            return 1;
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
    }

    private static void execute(String command, JobContext ctx, PrintStream out, boolean force) {
        if ("bench".equals(command)) {
            Bench.run(ctx, out);
            return;
        }
        String[] exported = {null};
        @SuppressWarnings("unchecked")
        Map<String, Object>[] report = new Map[1];
        if ("run".equals(command)) {
            runStages(ctx, force, exported, report);
        } else {
            switch (command) {
                case "train-teacher" -> Stages.trainTeacher(ctx);
                case "label" -> Stages.label(ctx);
                case "train-student" -> Stages.trainStudent(ctx);
                case "export" -> exported[0] = Export.run(ctx);   // before evaluate, which measures its files
                case "evaluate" -> report[0] = Evaluate.run(ctx);
                default -> throw new IllegalArgumentException("unknown command " + command);
            }
        }
        if (report[0] != null) {
            out.println();
            out.print(Evaluate.table(report[0]));
        }
        out.println();
        out.println("outputs in " + ctx.workspace.root() + ":");
        print(out, ctx, "teacher", ctx.workspace.model("teacher"));
        print(out, ctx, "soft labels", ctx.workspace.softLabels("train"));
        print(out, ctx, "student", ctx.workspace.model("student"));
        print(out, ctx, "baseline", ctx.workspace.model("baseline"));
        print(out, ctx, "report", ctx.workspace.path("report", "report.json"));
        print(out, ctx, "", ctx.workspace.path("report", "report.html"));
        if (exported[0] != null) {
            print(out, ctx, "export", exported[0]);
        }
    }

    /**
     * {@code run}: every stage in order, each skipped when its outputs are complete and were made from the
     * same inputs and settings ({@link StageKeys}); {@code force} redoes them all. A stage whose inputs
     * changed says which, and runs; the stages after it see changed inputs in turn.
     */
    private static void runStages(JobContext ctx, boolean force, String[] exported, Map<String, Object>[] report) {
        Logger log = LoggerFactory.getLogger("dev.distill.job");
        Workspace w = ctx.workspace;
        int ran = 0;
        if (!ctx.settings.teacher().trainedHere()) {
            log.info("train-teacher: skipped, the teacher is loaded from {}", ctx.settings.teacher().model());
        } else {
            ran += stage(log, "train-teacher", "teacher/", StageKeys.teacher(ctx), StageKeys.recorded(ctx,
                    w.path("teacher", "provenance.json")), w.exists(w.model("teacher")), force, () -> Stages.trainTeacher(ctx));
        }
        String teacherModel = Stages.teacherModel(ctx);
        ran += stage(log, "label", "soft-labels/", StageKeys.label(ctx, w.sha256(teacherModel)),
                StageKeys.recorded(ctx, w.path("soft-labels", "provenance.json")),
                w.exists(w.path("soft-labels", "train", "_SUCCESS")) && w.exists(w.path("soft-labels", "test", "_SUCCESS")),
                force, () -> Stages.label(ctx));
        String studentRecord = w.path("student", "provenance.json");
        boolean baselineMade = w.exists(studentRecord)
                && Boolean.TRUE.equals(Json.read(w.readString(studentRecord)).get("baseline"));
        ran += stage(log, "train-student", "student/ and baseline/", StageKeys.student(ctx),
                StageKeys.recorded(ctx, studentRecord),
                w.exists(w.model("student")) && (!baselineMade || w.exists(w.model("baseline"))), force,
                () -> Stages.trainStudent(ctx));
        ran += stage(log, "export", "export/", StageKeys.export(ctx), StageKeys.recorded(ctx, w.path("export", "provenance.json")),
                w.exists(w.path("export", "student.zip")), force, () -> exported[0] = Export.run(ctx));
        String reportFile = w.path("report", "report.json");
        ran += stage(log, "evaluate", "report/", StageKeys.evaluate(ctx, teacherModel), StageKeys.recorded(ctx, reportFile),
                w.exists(w.path("report", "report.html")), force, () -> report[0] = Evaluate.run(ctx));
        if (ran == 0) {
            log.info("run: nothing to do, every stage is up to date with {} (--force redoes them)", ctx.jobFile);
        }
        if (report[0] == null && w.exists(reportFile)) {
            report[0] = Json.read(w.readString(reportFile));
        }
        if (exported[0] == null && w.exists(w.path("export", "student.zip"))) {
            exported[0] = w.path("export", "student.zip");
        }
    }

    /** Runs {@code body} unless its outputs are complete and {@code recorded} equals {@code key}; 1 if it ran. */
    private static int stage(Logger log, String name, String outputs, Map<String, String> key, Map<String, String> recorded,
                             boolean complete, boolean force, Runnable body) {
        if (!force && complete && key.equals(recorded)) {
            log.info("{}: up to date ({} made from the same inputs and settings); skipped, --force redoes it", name, outputs);
            return 0;
        }
        if (force) {
            log.info("{}: redoing it (--force)", name);
        } else if (complete && recorded != null) {
            log.info("{}: {} changed since {} was made; redoing it", name, String.join(", ",
                    StageKeys.changed(recorded, key)), outputs);
        } else if (complete) {
            log.info("{}: {} holds no record of what it was made from; redoing it", name, outputs);
        }
        body.run();
        return 1;
    }

    private static void print(PrintStream out, JobContext ctx, String what, String path) {
        if (ctx.workspace.exists(path)) {
            out.printf("  %-12s %s%n", what, path);
        }
    }

    /**
     * With {@code quiet}, the console shows warnings and errors only (the log file still gets everything);
     * otherwise progress too. Set on every run, since tests run several commands in one JVM.
     */
    private static void consoleThreshold(boolean quiet) {
        try {
            var ctx = (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
            var config = ctx.getConfiguration();
            var console = config.getAppender("console");
            var root = config.getRootLogger();
            if (console == null) {
                return;
            }
            root.removeAppender("console");
            root.addAppender(console, quiet ? org.apache.logging.log4j.Level.WARN : null, null);
            ctx.updateLoggers();
        } catch (RuntimeException | LinkageError ignored) {
            // another logging backend: it keeps its own configuration
        }
    }

    /** Points the log file at {@code <output-dir>/logs/} when it is local, and reconfigures logging. */
    private static String openLog(String outputDir) {
        String file = System.getProperty("distill.log");
        if (file == null) {
            Path local = dev.distill.datasets.DatasetSettings.localPath(outputDir);
            Path dir = local == null ? Path.of(System.getProperty("java.io.tmpdir")) : local.resolve("logs");
            try {
                Files.createDirectories(dir);
            } catch (java.io.IOException e) {
                dir = Path.of(System.getProperty("java.io.tmpdir"));
            }
            file = dir.resolve("distill-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                    + ".log").toString();
            System.setProperty("distill.log", file);
            try {
                ((org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false))
                        .reconfigure();
            } catch (RuntimeException | LinkageError ignored) {
                // another logging backend: it keeps its own configuration
            }
        }
        return file;
    }
}
