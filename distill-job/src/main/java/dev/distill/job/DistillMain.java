package dev.distill.job;

import dev.distill.job.stages.Stage;
import dev.distill.job.stages.StageRunner;
import dev.distill.job.stages.Stages;
import dev.distill.settings.SettingsException;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.distill.student.NativeBackend;
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
 * Exit codes: 0 success; 2 usage or configuration error (nothing was run or written); 3 the output folder
 * is in use by another run (nothing was run or written); 1 failure at run time. A failure prints its cause in
 * one line; the stack trace goes to the log file named in that line.
 */
public final class DistillMain {
    static final List<String> COMMANDS = java.util.stream.Stream.concat(Stages.names().stream(),
            java.util.stream.Stream.of("run", "compare", "bench")).toList();

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
              compare         the student trained with each method of kd.compare (hard labels,
                              label smoothing, augmentation, hinton, dkd, dist, ...) for the same
                              epochs over several seeds: mean +- std and each gain's
                              significance                                       -> report/compare.json
              bench           throughput ratios: labelling via Spark vs raw ND4J, trainer vs plain
                              fit(), 2 workers vs 1, convolutional training vs PyTorch;
                              plus the last run's accuracy                      -> report/bench.json

            distill idx-to-images <images.idx> <labels.idx | ""> <folder | file.parquet> [--format png|jpeg]
                                  [--class-names "a,b,..."] [--limit N]
                              an IDX data set as image files: one sub-folder per class, or a Hugging
                              Face style Parquet file (for format = image-folder / parquet.image-column)

            -Dkey=value overrides the job file, e.g. -Dkd.student.training.epochs=3
            --seeds N    compare: seeds per method (default kd.compare.seeds, 3)
            --force      run: redo every stage, even those whose outputs are up to date; with any
                         command, training starts over instead of resuming its checkpoint
            -q, --quiet  print nothing but warnings and errors (for scripts; the exit code and
                         report/report.json say how it went, report/metrics.jsonl has one line per epoch)
            keys and defaults: the reference.conf of each module (datasets, teacher, student, distill-job)
            """;

    private DistillMain() {
    }

    public static void main(String[] args) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Failures.shuttingDown = true, "distill shutdown"));
        int code = run(args, System.out, System.err);
        System.exit(code);
    }

    /** Runs a command and returns the exit code; never calls System.exit (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length > 0 && "idx-to-images".equals(args[0])) {
            return IdxToImages.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
        }
        NativeBackend.prepare();   // before anything loads ND4J
        List<String> positional = new ArrayList<>();
        Map<String, String> overrides = new LinkedHashMap<>();
        boolean quiet = false;
        boolean force = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
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
            if (a.equals("--seeds") || a.startsWith("--seeds=")) {
                String v = a.startsWith("--seeds=") ? a.substring("--seeds=".length())
                        : i + 1 < args.length ? args[++i] : "";
                if (!v.matches("[1-9][0-9]?|100")) {
                    err.println("distill: --seeds takes a whole number of seeds from 1 to 100, not '" + v + "'");
                    return 2;
                }
                overrides.put("kd.compare.seeds", v);
                continue;
            }
            if (a.startsWith("-D") && a.contains("=")) {
                overrides.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else if (a.startsWith("-D")) {
                err.println("distill: " + a + ": expected -Dkey=value with no spaces around = (e.g."
                        + " -Dkd.student.training.epochs=3)");
                return 2;
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
            settings = JobSettings.from(JobConfig.load(jobFile, overrides));
        } catch (SettingsException e) {
            err.println("distill: configuration error in " + jobFile + ":");
            err.println(e.getMessage().startsWith(e.problems().size() + " configuration problems")
                    ? e.getMessage() : "  " + e.getMessage());
            return 2;
        }
        if ("train-teacher".equals(command) && !settings.teacher().trainedHere()) {
            err.println("distill: train-teacher: there is no teacher to train: kd.teacher.source = load reads it from "
                    + settings.teacher().model() + "; set kd.teacher.source = train to train one here");
            return 2;
        }
        OutputLock lock;
        try {
            lock = OutputLock.acquire(settings.outputDir(), command + " " + jobFile,
                    org.apache.spark.deploy.SparkHadoopUtil.get().newConfiguration(new org.apache.spark.SparkConf()));
        } catch (OutputLock.BusyException e) {
            err.println("distill: " + e.getMessage());
            return 3;
        } catch (RuntimeException e) {
            err.println("distill: configuration error in " + jobFile + ":");
            err.println("  kd.output-dir = \"" + settings.outputDir() + "\": cannot create or lock it ("
                    + Failures.oneLine(e) + "); choose a writable folder");
            return 2;
        }
        try {
            return runLocked(command, jobFile, settings, force, quiet, lock, out, err);
        } finally {
            lock.close();
        }
    }

    /** The command, with the output folder locked: log file, Spark session, clean-up of an earlier run, stages. */
    private static int runLocked(String command, String jobFile, JobSettings settings, boolean force, boolean quiet,
                                 OutputLock lock, PrintStream out, PrintStream err) {
        String log = openLog(settings.outputDir());
        consoleThreshold(quiet);
        if (quiet) {
            out = new PrintStream(java.io.OutputStream.nullOutputStream());
        }
        Logger trace = LoggerFactory.getLogger("dev.distill.trace");
        Logger info = LoggerFactory.getLogger("dev.distill.job");
        if (lock.takenOver() != null) {
            info.info("{}: {}", settings.outputDir(), lock.takenOver());
        }
        SparkSession spark = null;
        try {
            spark = SparkSessions.create(settings);
            if (!settings.sparkMaster().startsWith("local") || System.getProperty("spark.master") != null) {
                applyLogConfiguration();   // Spark may have put its own defaults in place while starting
                consoleThreshold(quiet);
            }
            info.info("native backend: {}", NativeBackend.describe());
            JobContext ctx = new JobContext(settings, spark, jobFile);
            for (String removed : ctx.workspace().removeTemporaries()) {
                info.info("removed {}, left by an earlier run that did not finish", removed);
            }
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
            dev.distill.job.bench.Bench.run(ctx, out);
            return;
        }
        if ("compare".equals(command)) {
            dev.distill.job.stages.Compare.run(ctx, out, force);
            return;
        }
        boolean all = "run".equals(command);
        List<Stage> stages = all ? Stages.ALL : List.of(Stages.named(command));
        new StageRunner(ctx, all, force).run(stages, out);
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
            applyLogConfiguration();
        }
        return file;
    }

    /**
     * Applies the job jar's log4j2.properties by its URL. Under spark-submit, Spark configures logging before
     * the job jar is on the class path, and again (its own defaults) when the Spark context starts; so this is
     * called when the log file is chosen and once more after the session is created.
     */
    private static void applyLogConfiguration() {
        try {
            var ctx = (org.apache.logging.log4j.core.LoggerContext) org.apache.logging.log4j.LogManager.getContext(false);
            java.net.URL config = DistillMain.class.getResource("/log4j2.properties");
            if (config != null) {
                ctx.setConfigLocation(config.toURI());
            } else {
                ctx.reconfigure();
            }
        } catch (RuntimeException | LinkageError | java.net.URISyntaxException ignored) {
            // another logging backend: it keeps its own configuration
        }
    }
}
