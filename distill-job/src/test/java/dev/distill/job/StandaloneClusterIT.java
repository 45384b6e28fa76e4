package dev.distill.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Spark standalone cluster on 127.0.0.1 built from the Maven jars (DESIGN §9): a master and two
 * one-core workers in their own JVMs, and the job jar submitted through {@code SparkSubmit} as
 * {@code spark-submit} does. Labelling and training then run in separate executor JVMs, so everything they
 * use must serialise, and DL4J/ND4J must come from the job jar (they are kept off the cluster's class path).
 */
class StandaloneClusterIT {
    static final String[] OPENS = {
        "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
        "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED", "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
        "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED"};

    /**
     * The cluster's Spark home: jars, logs, the workers' folders (each application copies the 240 MB job jar
     * into them), every JVM's temporary files and each test's folder, so that nothing outlives the class.
     */
    @TempDir
    static Path home;
    /** The JVMs' temporary folder, inside {@link #home}. */
    static Path jvmTmp;
    static Path logs;
    static int masterPort;
    static final List<Process> daemons = new ArrayList<>();

    @BeforeAll
    static void startCluster() throws Exception {
        jvmTmp = Files.createDirectories(home.resolve("tmp"));
        logs = Files.createDirectories(home.resolve("logs"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        Files.createFile(home.resolve("RELEASE"));
        String classpath = Files.readString(Path.of("target", "local-classpath.txt")).trim();
        for (String jar : classpath.split(File.pathSeparator)) {
            if (jar.contains("/org/deeplearning4j/") || jar.contains("/org/nd4j/") || jar.contains("/org/bytedeco/")
                    || jar.contains("/dev/distill/") || jar.contains("distill-") || !jar.endsWith(".jar")) {
                continue; // the job jar must bring these
            }
            Path target = Path.of(jar);
            Files.createSymbolicLink(jars.resolve(target.getFileName()), target);
        }
        masterPort = freePort();
        int masterUi = freePort();
        Process master = daemon("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", Integer.toString(masterPort), "--webui-port", Integer.toString(masterUi));
        daemons.add(master);
        for (int w = 1; w <= 2; w++) {
            daemons.add(daemon("worker" + w, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--cores", "1", "--memory", "2g", "--webui-port", Integer.toString(freePort()),
                    "--work-dir", home.resolve("work" + w).toString(), "spark://127.0.0.1:" + masterPort));
        }
        // The master's status page says how many workers registered (workers retry until the master is up).
        awaitState("a master with two workers", master, () -> aliveWorkers(masterUi) == 2);
    }

    /** Workers registered with the master, from its JSON status page; -1 while it does not answer. */
    static int aliveWorkers(int masterUi) {
        try {
            var c = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + masterUi + "/json/").toURL()
                    .openConnection();
            c.setConnectTimeout(2000);
            c.setReadTimeout(2000);
            try (var in = c.getInputStream()) {
                return new ObjectMapper().readTree(in).path("aliveworkers").asInt(-1);
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return -1;
        }
    }

    @AfterAll
    static void stopCluster() throws Exception {
        // The daemons' logs outlive the home, for a failed test to be read.
        Path kept = Files.createDirectories(Path.of("target", "cluster-logs"));
        try (Stream<Path> files = Files.list(logs)) {
            for (Path f : files.toList()) {
                Files.copy(f, kept.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        // Every process this class started (daemons, executors, spark-submit, bash, drivers) ends before the
        // home, where they write, is deleted, also after a failed test left one running.
        List<ProcessHandle> all = ProcessHandle.current().descendants().toList();
        all.forEach(ProcessHandle::destroy);
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(20, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                h.destroyForcibly();
                h.onExit().get(20, TimeUnit.SECONDS);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static List<String> java(String mainClass, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Djava.io.tmpdir=" + jvmTmp));
        cmd.addAll(Arrays.asList(OPENS));
        cmd.addAll(List.of("-cp", home.resolve("jars") + "/*", mainClass));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    /** A test's own folder, inside {@link #home}. */
    static Path testDir(String name) throws IOException {
        return Files.createTempDirectory(home, name);
    }

    static ProcessBuilder withEnv(ProcessBuilder pb) {
        pb.environment().put("SPARK_HOME", home.toString());
        // Block managers' and shuffle folders (Spark's "local dirs") of the driver, the workers and, through
        // the workers, the executors; the launcher's driver JVM (bin/spark-submit) gets the temporary folder.
        pb.environment().put("SPARK_LOCAL_DIRS", jvmTmp.toString());
        pb.environment().put("SPARK_SUBMIT_OPTS", "\"-Djava.io.tmpdir=" + jvmTmp + "\"");   // quoted: a path with spaces
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        return pb;
    }

    static Process daemon(String name, String mainClass, String... args) throws IOException {
        ProcessBuilder pb = withEnv(new ProcessBuilder(java(mainClass, args)));
        // Executors inherit a worker's environment: their temporary files (ONNX Runtime's native library,
        // left behind when a test kills an executor) go inside the home too.
        pb.environment().put("JAVA_TOOL_OPTIONS", "\"-Djava.io.tmpdir=" + jvmTmp + "\"");
        return pb.redirectErrorStream(true).redirectOutput(logs.resolve(name + ".log").toFile()).start();
    }

    /** Waits (up to 10 minutes) until {@code state} holds, failing early if {@code process} ends. */
    static void awaitState(String what, Process process, java.util.concurrent.Callable<Boolean> state) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (!state.call()) {
            assertThat(process.isAlive()).as("still running while waiting for " + what).isTrue();
            assertThat(System.nanoTime()).as(what + " within 10 minutes").isLessThan(deadline);
            // Another process's files: no event to wait on.
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    /** True while a labelling task writes a part of {@code split} and the split is not yet committed. */
    static boolean labellingTaskWriting(Path softLabels, String split) throws IOException {
        if (!Files.isDirectory(softLabels) || Files.exists(softLabels.resolve(split))) {
            return false;
        }
        try (Stream<Path> dirs = Files.list(softLabels)) {
            for (Path tmp : dirs.filter(d -> d.getFileName().toString().startsWith("." + split + ".tmp-")).toList()) {
                try (Stream<Path> parts = Files.list(tmp)) {
                    if (parts.anyMatch(p -> p.getFileName().toString().startsWith("_attempt-"))) {
                        return true;
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    return false;
                }
            }
        }
        return false;
    }

    /** spark-submit of the job jar with {@code args}; returns its log after checking it exited 0. */
    static String submit(String name, String... args) throws Exception {
        Process submit = submitAsync(name, args);
        assertThat(submit.waitFor(15, TimeUnit.MINUTES)).as("spark-submit finished").isTrue();
        String log = Files.readString(logs.resolve(name + ".log"));
        assertThat(submit.exitValue()).as(log).isZero();
        return log;
    }

    /** spark-submit of the job jar with {@code args}, running; its console goes to {@code logs/<name>.log}. */
    static Process submitAsync(String name, String... args) throws Exception {
        Path jobJar;
        try (Stream<Path> s = Files.list(Path.of("target"))) {
            jobJar = s.filter(p -> p.getFileName().toString().endsWith("-job.jar")).findFirst().orElseThrow();
        }
        String opens = String.join(" ", OPENS);
        List<String> cmd = java("org.apache.spark.deploy.SparkSubmit",
                "--master", "spark://127.0.0.1:" + masterPort, "--deploy-mode", "client",
                "--class", "dev.distill.job.DistillMain",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
                "--conf", "spark.ui.enabled=false", "--conf", "spark.executor.memory=1500m",
                "--conf", "spark.executor.extraJavaOptions=" + opens,
                jobJar.toAbsolutePath().toString());
        cmd.addAll(Arrays.asList(args));
        return withEnv(new ProcessBuilder(cmd)).redirectErrorStream(true)
                .redirectOutput(logs.resolve(name + ".log").toFile()).start();
    }

    /** SIGKILLs the executor JVM that worker {@code w} runs for the application; returns its pid. */
    static long killExecutorOf(int w) {
        ProcessHandle executor = daemons.get(w).descendants()
                .filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                .findFirst().orElseThrow(() -> new AssertionError("worker " + w + " runs no executor"));
        executor.destroyForcibly();
        return executor.pid();
    }

    /**
     * An executor JVM is killed while the soft labels are written and another while the student trains:
     * Spark reruns their tasks, the soft labels hold every input row exactly once, and the student is the
     * undisturbed run's, bit for bit.
     */
    @Test
    void executorsLostDuringLabellingAndTrainingChangeNothing() throws Exception {
        Path dir = testDir("distill-cluster-loss");
        String conf = """
                include file("%s")
                kd {
                  dataset { max-train-rows = 16000, max-test-rows = 2000, partitions = 4 }
                  teacher { architecture.layers = [ { type = dense, units = 64 } ], training { epochs = 1, workers = 2 } }
                  soft-labels.batch-size = 1
                  student { baseline = false, training { epochs = 6, workers = 2 } }
                  report.speed-seconds = 0.2
                }
                """.formatted(Path.of("..", "conf", "fashion-mnist.conf").toAbsolutePath());
        Path job = Files.writeString(dir.resolve("loss.conf"), conf);
        // The undisturbed run first; the disturbed one loads its teacher, so that both students learn from
        // the same soft labels (teachers trained on two executors differ slightly from run to run).
        Path calm = dir.resolve("calm");
        submit("calm", "run", job.toString(), "-Dkd.output-dir=" + calm);
        Path lost = dir.resolve("lost");
        Process run = submitAsync("loss", "run", job.toString(), "-Dkd.output-dir=" + lost, "-Dkd.teacher.source=load",
                "-Dkd.teacher.model=" + calm.resolve("teacher/model.zip"));
        Path log = logs.resolve("loss.log");
        // Killed while a labelling task writes its part (its attempt file exists, the split is not committed)
        // and while the student trains (its checkpoint records epoch 2): states, not log lines.
        Path softLabels = lost.resolve("soft-labels");
        awaitState("a task writing the train split's soft labels", run, () -> labellingTaskWriting(softLabels, "train"));
        killExecutorOf(1);
        String checkpoint = lost.resolve("student/checkpoint.bin").toString();
        awaitState("the student's checkpoint after epoch 2", run, () -> {
            try {
                var ck = dev.distill.student.spark.Checkpoint.read(new org.apache.hadoop.conf.Configuration(), checkpoint);
                return ck != null && ck.epoch() + 1 >= 2;
            } catch (java.io.UncheckedIOException e) {
                return false;   // between the delete and the rename of a replace
            }
        });
        killExecutorOf(2);
        assertThat(run.waitFor(15, TimeUnit.MINUTES)).as("spark-submit finished").isTrue();
        String text = Files.readString(log);
        assertThat(run.exitValue()).as(text).isZero();
        assertThat(text).contains("labelled 16000 rows into " + lost.resolve("soft-labels/train"), "student: epoch 6/6");
        // Spark's reports of lost executors go to the run's log file, not the console.
        String runLog;
        try (Stream<Path> files = Files.list(lost.resolve("logs"))) {
            runLog = Files.readString(files.filter(f -> f.getFileName().toString().startsWith("distill-")).findFirst()
                    .orElseThrow());
        }
        assertThat(runLog.lines().filter(l -> l.matches(".*ERROR .*Lost executor \\d+ on .*"))).as("two executors lost")
                .hasSize(2);
        assertThat(text).doesNotContain("Lost executor");

        SparkSession spark = dev.distill.testing.LocalSpark.start();
        try {
            var labels = spark.read().parquet(lost.resolve("soft-labels/train").toString());
            assertThat(labels.count()).isEqualTo(16000);
            assertThat(labels.select("id").distinct().count()).isEqualTo(16000);
        } finally {
            spark.stop();
        }
        // The same teacher, the same data: the student trained while executors were lost is the calm run's,
        // bit for bit (rows per worker, their order and the order of partial sums do not depend on timing).
        var calmStudent = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(
                calm.resolve("student/model.zip").toFile(), false);
        var lostStudent = org.deeplearning4j.util.ModelSerializer.restoreMultiLayerNetwork(
                lost.resolve("student/model.zip").toFile(), false);
        assertThat(lostStudent.params().toFloatVector()).containsExactly(calmStudent.params().toFloatVector());
        ObjectMapper json = new ObjectMapper();
        double lostAccuracy = json.readTree(lost.resolve("report/report.json").toFile()).at("/student/test_accuracy").asDouble();
        double calmAccuracy = json.readTree(calm.resolve("report/report.json").toFile()).at("/student/test_accuracy").asDouble();
        assertThat(lostAccuracy).isEqualTo(calmAccuracy);
    }

    /** The {@code sh} code block of the README that starts with {@code prefix}, as written there. */
    static String readmeBlock(String prefix) throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("```sh\n(" + java.util.regex.Pattern.quote(prefix)
                + ".*?)```", java.util.regex.Pattern.DOTALL).matcher(readme);
        assertThat(m.find()).as("README has a ```sh block starting with " + prefix).isTrue();
        return m.group(1);
    }

    /**
     * {@code spark-submit} as Spark's own {@code bin/spark-submit} runs it (the launcher library builds the
     * java command: class path, driver options, the Java 17 module flags), in {@code <spark-home>/bin}.
     */
    static Path sparkSubmitScript() throws IOException {
        Path bin = Files.createDirectories(home.resolve("bin"));
        Path script = bin.resolve("spark-submit");
        if (!Files.exists(script)) {
            Files.writeString(script, """
                    #!/usr/bin/env bash
                    # What Spark's bin/spark-submit and bin/spark-class do: the launcher prints its notes, a NUL and
                    # a newline, then the java command NUL-separated, then its exit code; run that command.
                    build_command() {
                      java -Xmx128m -cp "$SPARK_HOME/jars/*" org.apache.spark.launcher.Main "$@"
                      printf "%d\\0" $?
                    }
                    set +o posix
                    CMD=()
                    DELIM=$'\\n'
                    CMD_START_FLAG="false"
                    while IFS= read -d "$DELIM" -r _ARG; do
                      ARG=${_ARG//$'\\r'}
                      if [ "$CMD_START_FLAG" == "true" ]; then
                        CMD+=("$ARG")
                      else
                        if [ "$ARG" == $'\\0' ]; then
                          DELIM=''
                          CMD_START_FLAG="true"
                        elif [ "$ARG" != "" ]; then
                          echo "$ARG"
                        fi
                      fi
                    done < <(build_command org.apache.spark.deploy.SparkSubmit "$@")
                    COUNT=${#CMD[@]}
                    LAST=$((COUNT - 1))
                    LAUNCHER_EXIT_CODE=${CMD[$LAST]}
                    if ! [[ $LAUNCHER_EXIT_CODE =~ ^[0-9]+$ ]]; then
                      echo "${CMD[@]}" | head -n-1 1>&2
                      exit 1
                    fi
                    if [ "$LAUNCHER_EXIT_CODE" != 0 ]; then
                      exit "$LAUNCHER_EXIT_CODE"
                    fi
                    CMD=("${CMD[@]:0:$LAST}")
                    exec "${CMD[@]}"
                    """);
            script.toFile().setExecutable(true);
        }
        return bin;
    }

    /**
     * The README's cluster command, as written there, run by bash from a folder laid out like the project
     * (conf/my.conf, the job jar under distill-job/target), in client deploy mode and, changing only the
     * mode as the README says, in cluster deploy mode. Each run writes its report and its log file. Client
     * mode labels with the teacher exported from PyTorch, so ONNX Runtime runs in both executor JVMs (each
     * runs tasks) and the soft labels hold PyTorch's logits within 1e-3, and trains a baseline beside the
     * student; cluster mode trains a DL4J teacher in the one executor left beside the driver, which takes one
     * of the two one-core workers.
     */
    @Test
    void theReadmesClusterCommandRunsAsWritten() throws Exception {
        String command = readmeBlock("spark-submit --master");
        assertThat(command).contains("--deploy-mode client", "--files conf/my.conf", "run my.conf");
        Path work = testDir("distill-readme");
        Files.createDirectories(work.resolve("conf"));
        Path target = Files.createDirectories(work.resolve("distill-job").resolve("target"));
        Path jobJar;
        try (Stream<Path> s = Files.list(Path.of("target"))) {
            jobJar = s.filter(p -> p.getFileName().toString().endsWith("-job.jar")).findFirst().orElseThrow();
        }
        Files.createSymbolicLink(target.resolve(jobJar.getFileName()), jobJar.toAbsolutePath());
        Path bin = sparkSubmitScript();
        Path onnx = Path.of("..", "teacher", "src", "test", "resources", "onnx", "fashion-cnn.onnx").toAbsolutePath();
        for (String mode : List.of("client", "cluster")) {
            boolean client = "client".equals(mode);
            Path out = work.resolve("out-" + mode);
            String teacher = client
                    ? "teacher { source = load, model = \"" + onnx + "\", onnx.input-shape = [1, 28, 28] }"
                    : "teacher { architecture.layers = [ { type = dense, units = 64 } ], training { epochs = 2, workers = 2 } }";
            Files.writeString(work.resolve("conf").resolve("my.conf"), """
                    include file("%s")
                    kd {
                      output-dir = "%s"
                      dataset { max-train-rows = 2000, max-test-rows = 500, partitions = 2 }
                      %s
                      student { baseline = %b, training { epochs = 2, workers = 2 } }
                      report.speed-seconds = 0.2
                    }
                    """.formatted(Path.of("..", "conf", "fashion-mnist.conf").toAbsolutePath(), out, teacher,
                    client));
            String text = client ? command : command.replace("--deploy-mode client", "--deploy-mode cluster");
            ProcessBuilder pb = withEnv(new ProcessBuilder("bash", "-c", text)).directory(work.toFile())
                    .redirectErrorStream(true).redirectOutput(logs.resolve("readme-" + mode + ".log").toFile());
            pb.environment().put("SPARK_MASTER", "spark://127.0.0.1:" + masterPort);
            pb.environment().put("PATH", bin + File.pathSeparator + Path.of(System.getProperty("java.home"), "bin")
                    + File.pathSeparator + System.getenv("PATH"));
            Process p = pb.start();
            assertThat(p.waitFor(15, TimeUnit.MINUTES)).as(mode + " mode finished").isTrue();
            String log = Files.readString(logs.resolve("readme-" + mode + ".log"));
            assertThat(p.exitValue()).as(mode + " mode:\n" + log).isZero();
            assertThat(out.resolve("report/report.json")).as(mode + " mode report").exists();
            assertThat(out.resolve("export/student.int8")).exists();
            String runLog;
            try (Stream<Path> files = Files.list(out.resolve("logs"))) {
                List<Path> runLogs = files.filter(f -> f.getFileName().toString().startsWith("distill-")).toList();
                assertThat(runLogs).as(mode + " mode log file").hasSize(1);
                runLog = Files.readString(runLogs.get(0));
            }
            assertThat(runLog).contains("labelled 2000 rows into " + out.resolve("soft-labels/train"),
                    "labelled 500 rows into " + out.resolve("soft-labels/test"), "student: epoch 2/2",
                    "evaluate: wrote " + out.resolve("report/report.json"));
            JsonNode report = new ObjectMapper().readTree(out.resolve("report/report.json").toFile());
            assertThat(report.at("/student/test_accuracy").asDouble()).as(mode).isBetween(0.5, 1.0);
            assertThat(report.at("/student/teacher_agreement").asDouble()).as(mode).isBetween(0.5, 1.0);
            assertThat(report.at("/baseline/test_accuracy").isMissingNode()).as(mode + " mode baseline")
                    .isEqualTo(!client);
            assertThat(report.at("/stages/0/engine").asText()).isEqualTo(client ? "ONNX Runtime" : "ND4J");
            JsonNode provenance = new ObjectMapper().readTree(out.resolve("export/provenance.json").toFile());
            assertThat(provenance.at("/spark_master").asText()).isEqualTo("spark://127.0.0.1:" + masterPort);
            // In cluster mode the driver takes one of the two one-core workers, so one executor runs.
            assertThat(workersWhoseExecutorWorkedFor(provenance.at("/spark_application_id").asText()))
                    .as(mode + " mode: workers whose executor ran tasks").hasSize(client ? 2 : 1);
            if (client) {
                // The driver is spark-submit's JVM here: its console ends with where the outputs are.
                assertThat(log).contains("report       " + out.resolve("report/report.json"));
                assertSoftLabelsHoldPyTorchsLogits(out.resolve("soft-labels/test"),
                        onnx.resolveSibling("fashion-cnn-logits.csv"));
            }
        }
    }

    /**
     * The workers that started an executor JVM for application {@code app} (a folder named by the application
     * id in their work folder) which ran tasks.
     */
    static List<Integer> workersWhoseExecutorWorkedFor(String app) throws IOException {
        assertThat(app).startsWith("app-");
        List<Integer> worked = new ArrayList<>();
        for (int w = 1; w <= 2; w++) {
            Path appDir = home.resolve("work" + w).resolve(app);
            if (!Files.isDirectory(appDir)) {
                continue;
            }
            try (Stream<Path> executors = Files.list(appDir)) {
                for (Path e : executors.filter(Files::isDirectory).toList()) {
                    if (Files.readString(e.resolve("stderr")).contains("Running task")) {
                        worked.add(w);
                        break;
                    }
                }
            }
        }
        return worked;
    }

    /** The test split's soft labels: 500 rows, the first 64 with PyTorch's logits within 1e-3. */
    static void assertSoftLabelsHoldPyTorchsLogits(Path softLabels, Path pytorchLogits) throws IOException {
        List<String> expected = Files.readAllLines(pytorchLogits);
        java.util.Map<Long, float[]> logits = new java.util.HashMap<>();
        try (Stream<Path> parts = Files.list(softLabels)) {
            for (Path part : parts.filter(p -> p.toString().endsWith(".parquet")).toList()) {
                try (var reader = org.apache.parquet.hadoop.ParquetReader.builder(
                        new org.apache.parquet.hadoop.example.GroupReadSupport(),
                        new org.apache.hadoop.fs.Path(part.toString())).build()) {
                    for (org.apache.parquet.example.data.Group g; (g = reader.read()) != null; ) {
                        var t = g.getGroup("teacher_logits", 0);
                        float[] z = new float[t.getFieldRepetitionCount("element")];
                        for (int c = 0; c < z.length; c++) {
                            z[c] = t.getFloat("element", c);
                        }
                        logits.put(g.getLong("id", 0), z);
                    }
                }
            }
        }
        assertThat(logits).hasSize(500);
        for (int i = 0; i < 64; i++) {
            String[] want = expected.get(i).split(",");
            for (int c = 0; c < 10; c++) {
                assertThat(logits.get((long) i)[c]).as("image %d class %d", i, c)
                        .isCloseTo(Float.parseFloat(want[c]), org.assertj.core.api.Assertions.within(1e-3f));
            }
        }
    }
}
