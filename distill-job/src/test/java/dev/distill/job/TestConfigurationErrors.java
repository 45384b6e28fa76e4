package dev.distill.job;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Configuration mistakes are reported before any Spark job starts: exit code 2, every problem listed with
 * its origin, key, value and what is valid, and nothing written to the output folder.
 */
class TestConfigurationErrors {
    @TempDir
    Path dir;
    Path out;

    @BeforeEach
    void setUp() {
        out = dir.resolve("out");
    }

    private Path job(String body) throws Exception {
        return Files.writeString(dir.resolve("job.conf"), "kd {\n  output-dir = \"" + out + "\"\n" + body + "\n}\n");
    }

    private CliRun run(String body, String... extra) throws Exception {
        String[] args = new String[2 + extra.length];
        args[0] = "train-student";
        args[1] = job(body).toString();
        System.arraycopy(extra, 0, args, 2, extra.length);
        CliRun r = CliRun.of(args);
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(out).as("a configuration error creates nothing").doesNotExist();
        return r;
    }

    @Test
    void misspelledKeyIsNamedWithTheKeyItProbablyMeant() throws Exception {
        CliRun r = run("  student.training.epocs = 3");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + dir.resolve("job.conf") + ":\n  "
                + dir.resolve("job.conf") + ":3: kd.student.training.epocs = 3: unknown key; did you mean"
                + " kd.student.training.epochs? Valid keys under kd.student.training: augment, averaging-frequency,"
                + " batch-size, epochs, l2, schedule, seed, updater, workers\n");
    }

    /** The stage table's timing is a number of seconds in [0.01, 600]: none, or an hour per stage, is a mistake. */
    @Test
    void reportSpeedSecondsOutOfRange() throws Exception {
        String f = dir.resolve("job.conf").toString();
        for (String v : List.of("0", "3600", "fast")) {
            CliRun r = run("  report.speed-seconds = " + v);
            assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f
                    + ":3: kd.report.speed-seconds = " + ("fast".equals(v) ? "\"fast\"" : v)
                    + ": must be a number in [0.01, 600.0]\n");
        }
    }

    /** Class names: one per class, none blank, no two alike; each mistake named with the list as written. */
    @Test
    void classNameMistakes() throws Exception {
        String f = dir.resolve("job.conf").toString();
        CliRun r = run("  dataset { num-classes = 3, class-names = [a, b] }");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f
                + ":3: kd.dataset.class-names = [\"a\",\"b\"]: 2 names for num-classes = 3; give one name per class, in"
                + " label order (the name of label 0 first), or [] for the label numbers\n");
        r = run("  dataset { num-classes = 3, class-names = [a, \"Bag\", \"Bag \"] }");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f
                + ":3: kd.dataset.class-names = [\"a\",\"Bag\",\"Bag \"]: \"Bag \" names both class 1 and class 2; the"
                + " names must differ\n");
        r = run("  dataset { num-classes = 2, class-names = [a, \" \"] }");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f
                + ":3: kd.dataset.class-names = [\"a\",\" \"]: the name of class 1 is blank; every class needs a name\n");
    }

    /** A Hugging Face Parquet file whose class names or image column do not fit is refused before Spark starts. */
    @Test
    void imageParquetMistakes() throws Exception {
        Path file = dir.resolve("pets.parquet");
        float[] px = new float[4];
        dev.distill.datasets.images.ImageFiles.writeHuggingFaceParquet(file, java.util.List.of(
                new dev.distill.datasets.images.ImageFiles.Image(px, 1, 2, 2, 0)), java.util.List.of("cat", "dog"), "png");
        String f = dir.resolve("job.conf").toString();
        String data = "  dataset { format = parquet, train = \"" + file + "\", test = \"\", train-labels = \"\","
                + " test-labels = \"\", input-shape = [1, 2, 2], parquet.image-column = ";
        CliRun r = run(data + "image, num-classes = 3 }");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f + ":3: kd.dataset.train = \""
                + file + "\": " + file + ": its Hugging Face metadata names 2 classes for column 'label' (cat, dog) but"
                + " kd.dataset.num-classes = 3; set num-classes = 2\n");
        r = run(data + "label, num-classes = 2 }");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f + ":3: kd.dataset.train = \""
                + file + "\": " + file + ": image column 'label' is optional int64 label; expected encoded images: binary,"
                + " or a struct with a binary field 'bytes' (the Hugging Face layout, struct<bytes: binary, path: string>)"
                + " (kd.dataset.parquet.image-column)\n");
    }

    /**
     * MobileNet blocks: under quantisation-aware training a batch norm must be foldable into the layer before it;
     * feature-map layers cannot follow a flat one.
     */
    @Test
    void mobileBlockMistakes() throws Exception {
        String f = dir.resolve("job.conf").toString();
        CliRun r = run("  dataset.input-shape = [1, 28, 28]\n  student { quantisation.enabled = true, architecture.layers = ["
                + " { type = conv, filters = 4, kernel = 3 }, { type = batch-norm, activation = relu } ] }");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f + ":4:"
                + " kd.student.architecture.layers[1].type = \"batch-norm\": a batch-norm is folded into layers[0] for"
                + " the int8 file, so that conv layer needs activation = identity (it has relu); put the activation on"
                + " the batch-norm: { type = batch-norm, activation = relu }\n");
        r = run("  dataset.input-shape = [1, 28, 28]\n  student.architecture.layers = [ { type = global-pool },"
                + " { type = depthwise, kernel = 3 } ]");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f + ":4:"
                + " kd.student.architecture.layers[1].type = \"depthwise\": a depthwise layer needs a feature map, but"
                + " layers[0] (global-pool) has already made the activations a flat vector; put the depthwise layer"
                + " before it\n");
        // A residual block: its layers are named by their key inside the block.
        r = run("  dataset.input-shape = [1, 28, 28]\n  student { quantisation.enabled = true, architecture.layers = ["
                + " { type = conv, filters = 4, kernel = 3 }, { type = residual, activation = tanh,"
                + " layers = [ { type = batch-norm } ] } ] }");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n"
                + "2 configuration problems:\n"
                + "  " + f + ":4: kd.student.architecture.layers[1].activation = \"tanh\": quantisation-aware training"
                + " (kd.student.quantisation.enabled = true) takes relu or identity, the activations the int8 runtime"
                + " computes\n"
                + "  " + f + ":4: kd.student.architecture.layers[1].layers[0].type = \"batch-norm\": a batch-norm is"
                + " folded into the layer right before it for the int8 file, which must be a dense, conv or depthwise"
                + " layer; this one is the first layer of its residual block\n");
        r = run("  dataset.input-shape = [1, 28, 28]\n  student.architecture.layers = [ { type = conv, filters = 4,"
                + " kernel = 3 }, { type = residual, layers = [ { type = conv, filters = 8, kernel = 3 } ] } ]");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n  " + f + ":4:"
                + " kd.student.architecture.layers[1].type = \"residual\": a residual block adds its input to the output"
                + " of its layers, so they must keep its shape [4, 28, 28]; they give [8, 28, 28] (keep stride 1,"
                + " \"same\" padding, no pooling, and as many filters as the block's input has channels)\n");
    }

    /** Each teacher of an ensemble needs a model; its keys are checked; a missing file is named with its key. */
    @Test
    void ensembleMistakes() throws Exception {
        String f = dir.resolve("job.conf").toString();
        CliRun r = run("  teacher.ensemble = [ { format = onnx }, { model = \"b.onnx\", formt = onnx } ]");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n"
                + "2 configuration problems:\n"
                + "  " + f + ":3: kd.teacher.ensemble[0].model: each teacher of kd.teacher.ensemble needs a model (a DL4J"
                + " zip or an ONNX file)\n"
                + "  " + f + ":3: kd.teacher.ensemble[1].formt = \"onnx\": unknown key in a teacher of the ensemble;"
                + " valid keys: model, format, onnx\n");
        r = run("  teacher.ensemble = \"b.onnx\"");
        assertThat(r.err()).contains("kd.teacher.ensemble = \"b.onnx\": must be a list of objects such as"
                + " { model = \"other-teacher.onnx\" }");
    }

    /** Augmentation without views to draw, or of rows that are not images; comparison methods that cannot run. */
    @Test
    void augmentationAndComparisonMistakes() throws Exception {
        String f = dir.resolve("job.conf").toString();
        CliRun r = run("  student.training.augment = true\n"
                + "  compare.methods = [ { name = kd, loss = hinton, temprature = 2 }, { name = kd, loss = dkd,"
                + " dkd.target-weight = -1, augment = true } ]");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n"
                + "6 configuration problems:\n"
                + "  " + f + ":4: kd.compare.methods = [{\"loss\":\"hinton\",\"name\":\"kd\",\"temprature\":2},"
                + "{\"augment\":true,\"dkd\":{\"target-weight\":-1},\"loss\":\"dkd\",\"name\":\"kd\"}]: needs at least"
                + " one hard-label method (loss = cross-entropy) to"
                + " measure the gain over, e.g. { name = \"hard labels\", loss = cross-entropy }\n"
                + "  " + f + ":4: kd.compare.methods[0].temprature = 2: unknown key in a comparison method; a method"
                + " takes alpha, augment, dist, dkd, label-smoothing, loss, name, temperature, training, views (its loss settings"
                + " fall back to kd.student.distillation)\n"
                + "  " + f + ":4: kd.compare.methods[1].augment = true: is true but kd.augment draws no views: set"
                + " kd.augment.shift, kd.augment.flip or kd.augment.crop.scale (e.g. shift = 2, flip = 0.5)\n"
                + "  " + f + ":4: kd.compare.methods[1].dkd.target-weight = -1: must be a number in [0.0, 1000.0]\n"
                + "  " + f + ":4: kd.compare.methods[1].name = \"kd\": two methods are named \"kd\"; names must differ\n"
                + "  " + f + ":3: kd.student.training.augment = true: is true but kd.augment draws no views: set"
                + " kd.augment.shift, kd.augment.flip or kd.augment.crop.scale (e.g. shift = 2, flip = 0.5)\n");
        CliRun flat = run("  dataset.input-shape = [784]\n  augment.shift = 2\n  student.training.augment = true");
        assertThat(flat.err()).contains(":5: kd.student.training.augment = true: needs image inputs of shape"
                + " [channels, height, width], but the input shape is [784]; set kd.dataset.input-shape (e.g. [1, 28, 28])\n");
        CliRun views = run("  soft-labels { views = 4, store = top-k, k = 3 }");
        assertThat(views.err()).contains(":3: kd.soft-labels.views = 4: is above 1 but kd.augment draws no views: set"
                + " kd.augment.shift, kd.augment.flip or kd.augment.crop.scale (e.g. shift = 2, flip = 0.5)\n");
        // A setting only a compared method's loss reads is reported under that method, not dropped.
        CliRun inherited = run("  student.distillation.dkd.target-weight = -1");
        assertThat(inherited.err()).contains("kd.compare.methods[3].dkd.target-weight = -1: must be a number in"
                + " [0.0, 1000.0]\n");
        // Misspelt keys inside a method's sections are named, with what they were probably meant to be.
        CliRun nested = run("  compare.methods = [ { name = hard, loss = cross-entropy, training { epoch = 30,"
                + " schedule.typ = one-cycle } }, { name = dkd, loss = dkd, dkd.target-weigth = 2 } ]");
        assertThat(nested.err()).contains(
                ":3: kd.compare.methods[0].training.epoch = 30: unknown key; did you mean kd.student.training.epochs?",
                ":3: kd.compare.methods[0].training.schedule.typ = \"one-cycle\": unknown key; did you mean"
                        + " kd.student.training.schedule.type?",
                ":3: kd.compare.methods[1].dkd.target-weigth = 2: unknown key; did you mean"
                        + " kd.student.distillation.dkd.target-weight?");
        CliRun sameFolder = run("  compare.methods = [ { name = hard, loss = cross-entropy }, { name = KD, loss = hinton },"
                + " { name = \"kd!\", loss = dkd } ]");
        assertThat(sameFolder.err()).contains("kd.compare.methods[2].name = \"kd!\": \"kd!\" is kept in the same folder as"
                + " an earlier method (compare/kd/); names must differ in their letters or digits\n");
        CliRun seeds = CliRun.of("compare", job("").toString(), "--seeds", "0");
        assertThat(seeds.code()).isEqualTo(2);
        assertThat(seeds.err()).isEqualTo("distill: --seeds takes a whole number of seeds from 1 to 100, not '0'\n");
    }

    @Test
    void stringWhereANumberBelongs() throws Exception {
        CliRun r = run("  student.training.epochs = \"ten\"");
        assertThat(r.err()).contains(":3: kd.student.training.epochs = \"ten\": must be an integer in [1, 100000]\n");
    }

    @Test
    void outOfRangeValuesAreAllReportedTogether() throws Exception {
        CliRun r = run("  student { training.epochs = 0, distillation { temperature = -1, alpha = 1.5 } }");
        String f = dir.resolve("job.conf").toString();
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n"
                + "3 configuration problems:\n"
                + "  " + f + ":3: kd.student.distillation.alpha = 1.5: must be a number in [0, 1]\n"
                + "  " + f + ":3: kd.student.distillation.temperature = -1: must be a number > 0\n"
                + "  " + f + ":3: kd.student.training.epochs = 0: must be an integer in [1, 100000]\n");
    }

    @Test
    void quantisationAwareTrainingNamesWhatItCannotQuantise() throws Exception {
        CliRun r = run("  student { quantisation { enabled = true, weight-bits = 9 }\n"
                + "    architecture.layers = [ { type = dense, units = 8, activation = tanh }, { type = batch-norm } ] }\n"
                + "  teacher.architecture.layers = [ { type = dense, units = 8, quantise = false } ]");
        String f = dir.resolve("job.conf").toString();
        assertThat(r.err()).isEqualTo("distill: configuration error in " + f + ":\n"
                + "4 configuration problems:\n"
                + "  " + f + ":4: kd.student.architecture.layers[0].activation = \"tanh\": quantisation-aware training"
                + " (kd.student.quantisation.enabled = true) takes relu or identity, the activations the int8 runtime computes\n"
                + "  " + f + ":4: kd.student.architecture.layers[1].type = \"batch-norm\": a batch-norm is folded into"
                + " layers[0] for the int8 file, so that dense layer needs activation = identity (it has tanh); put the"
                + " activation on the batch-norm: { type = batch-norm, activation = relu }\n"
                + "  " + f + ":3: kd.student.quantisation.weight-bits = 9: must be an integer in [2, 8]\n"
                + "  " + f + ":5: kd.teacher.architecture.layers[0].quantise = false: only student layers are compressed"
                + " (kd.student.quantisation, kd.student.pruning, rank); remove it here\n");
    }

    @Test
    void anEnergyRankNeedsATrainedNetworkToStartFrom() throws Exception {
        CliRun r = run("  student.architecture { layers = [ { type = dense, units = 32, rank = 0.9 } ] }");
        assertThat(r.err()).contains(":3: kd.student.architecture.layers[0].rank = 0.9: a rank below 1 is the share of"
                + " the energy to keep, which needs the singular values of a trained layer: set"
                + " kd.student.architecture.init-from to a model zip, or give a whole number of components\n");
        CliRun missing = run("  student.architecture { layers = [ { type = dense, units = 32, rank = 40 } ],"
                + " init-from = \"" + dir.resolve("none.zip") + "\" }");
        assertThat(missing.err()).contains("kd.student.architecture.init-from = \"" + dir.resolve("none.zip")
                + "\": no such file: " + dir.resolve("none.zip") + "; name a DL4J model zip such as an earlier run's"
                + " student/model.zip or baseline/model.zip\n");
        assertThat(missing.err()).contains(":3: kd.student.architecture.layers[0].rank = 40: must be below the layer's"
                + " 32 units to make it smaller\n");
    }

    @Test
    void topKMustKeepFewerLogitsThanTheClasses() throws Exception {
        CliRun r = run("  soft-labels { store = top-k, k = 10 }");
        assertThat(r.err()).contains(":3: kd.soft-labels.k = 10: must be below kd.dataset.num-classes (10) to store"
                + " fewer logits than store = full\n");
    }

    @Test
    void commandLineOverridesAreCheckedToo() throws Exception {
        CliRun r = run("", "-Dkd.student.training.epochs=0");
        assertThat(r.err()).contains("command line -Dkd.student.training.epochs: kd.student.training.epochs = 0:"
                + " must be an integer in [1, 100000]");
    }

    @Test
    void aTeacherModelNamedWhileTheTeacherIsTrainedHere() throws Exception {
        CliRun r = run("  teacher.model = \"/models/teacher.onnx\"");
        assertThat(r.err()).contains(":3: kd.teacher.model = \"/models/teacher.onnx\": applies to kd.teacher.source ="
                + " load only (this job trains its teacher from kd.teacher.architecture); set kd.teacher.source = load"
                + " to use a trained model, or remove it\n");
        assertThat(r.err()).doesNotContain("kd.teacher.format");
    }

    @Test
    void missingDataPath() throws Exception {
        CliRun r = run("  dataset.train = \"" + dir.resolve("no-such-images.gz") + "\"");
        assertThat(r.err()).contains(":3: kd.dataset.train = \"" + dir.resolve("no-such-images.gz") + "\": no such file"
                + " or folder: " + dir.resolve("no-such-images.gz") + "; set kd.dataset.train to an existing IDX file\n");
    }

    @Test
    void teacherWithTenClassesAndStudentWithFive() throws Exception {
        CliRun r = run("  student.architecture.layers = [ { type = dense, units = 16 }, { type = output, units = 5 } ]");
        assertThat(r.err()).contains(":3: kd.student.architecture.layers[1].units = 5: the output layer has 5 units"
                + " but the data has 10 classes (kd.dataset.num-classes, which the teacher shares); they must match\n");
    }

    @Test
    void outputFolderThatCannotBeWritten() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Path job = Files.writeString(dir.resolve("job.conf"), "kd.output-dir = \"" + file.resolve("out") + "\"\n");
        CliRun r = CliRun.of("run", job.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains(job + ":1: kd.output-dir = \"" + file.resolve("out") + "\": cannot be created: "
                + file + " is not a folder; choose a writable folder\n");
        assertThat(Files.readString(file)).isEqualTo("x");
        Path job2 = Files.writeString(dir.resolve("job2.conf"), "kd.output-dir = \"" + file + "\"\n");
        CliRun r2 = CliRun.of("run", job2.toString());
        assertThat(r2.code()).isEqualTo(2);
        assertThat(r2.err()).contains(job2 + ":1: kd.output-dir = \"" + file + "\": is a file, not a folder; choose a"
                + " folder for the job's outputs\n");
    }

    @Test
    void aMalformedMasterAndKeysOutsideKd() throws Exception {
        CliRun r = run("  spark.master = \"local[two]\"", "-Dspark.executor.memory=4g");
        assertThat(r.err()).contains(dir.resolve("job.conf") + ":3: kd.spark.master = \"local[two]\": not a Spark"
                + " master: use local[*] (every core of this machine), local[N], spark://host:7077, yarn or"
                + " k8s://https://host:port\n", "command line: -Dspark.executor.memory: not a job setting: job settings"
                + " start with kd. (Spark settings go in kd.spark.conf, or to spark-submit as --conf key=value)\n");
    }

    /** On a cluster a relative path would be read in each executor's work folder: a configuration error. */
    @Test
    void relativePathsOnAClusterMaster() throws Exception {
        Files.writeString(dir.resolve("job.conf"), "kd { output-dir = \"rel/out\", spark.master = \"spark://h:7077\" }\n");
        CliRun r = CliRun.of("run", dir.resolve("job.conf").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains(dir.resolve("job.conf") + ":1: kd.output-dir = \"rel/out\": a relative path on a"
                + " cluster (master spark://h:7077) would be read in each executor's own work folder; give an absolute"
                + " path on a file system every node shares, or a URI such as hdfs:///data/out\n");
        assertThat(Path.of("rel")).doesNotExist();
    }

    /** A misspelled top-level section would leave the job to the defaults; a kd section at the top is not read. */
    @Test
    void topLevelKeysThatLookLikeMistakes() throws Exception {
        Path kdd = Files.writeString(dir.resolve("kdd.conf"), "kdd {\n  output-dir = \"" + out + "\"\n}\n");
        CliRun r = CliRun.of("run", kdd.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("distill: configuration error in " + kdd + ":\n  " + kdd + ":1: kdd: a top-level"
                + " key is not a job setting; did you mean kd? (job settings go under kd { ... })\n");
        Path top = Files.writeString(dir.resolve("top.conf"), "kd.output-dir = \"" + out + "\"\nspark.master ="
                + " \"local[1]\"\nbase = \"/data\"\n");
        CliRun t = CliRun.of("run", top.toString());
        assertThat(t.code()).isEqualTo(2);
        assertThat(t.err()).isEqualTo("distill: configuration error in " + top + ":\n  " + top + ":2: spark: a top-level"
                + " key is not a job setting; did you mean kd.spark? (job settings go under kd { ... })\n");
        // Every section under kd counts, the job-level ones too.
        for (String section : List.of("report", "compare", "augment")) {
            Path t2 = Files.writeString(dir.resolve(section + ".conf"), "kd.output-dir = \"" + out + "\"\n" + section
                    + " { }\n");
            CliRun r2 = CliRun.of("run", t2.toString());
            assertThat(r2.code()).isEqualTo(2);
            assertThat(r2.err()).isEqualTo("distill: configuration error in " + t2 + ":\n  " + t2 + ":2: " + section
                    + ": a top-level key is not a job setting; did you mean kd." + section + "? (job settings go under"
                    + " kd { ... })\n");
        }
        assertThat(out).doesNotExist();
    }

    /** A section given a plain value is one problem, not one per key it should have held. */
    @Test
    void aSectionGivenAValueIsOneProblem() throws Exception {
        CliRun r = run("", "-Dkd.spark.conf=spark.ui.enabled=false", "-Dkd.student.training.updater=adam");
        assertThat(r.err()).isEqualTo("distill: configuration error in " + dir.resolve("job.conf") + ":\n2 configuration"
                + " problems:\n  command line -Dkd.spark.conf: kd.spark.conf = \"spark.ui.enabled=false\": must be an"
                + " object { ... }\n  command line -Dkd.student.training.updater: kd.student.training.updater = \"adam\":"
                + " must be an object { ... }\n");
    }

    @Test
    void trainTeacherWithALoadedTeacherIsAUsageError() throws Exception {
        Path model = dir.resolve("teacher.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(new dev.distill.student.NetworkSpec(new int[] {1, 28, 28}, 10,
                java.util.List.of(dev.distill.student.LayerSpec.dense(4))).newNetwork(
                dev.distill.student.loss.DistillationLosses.hardLabels(), new dev.distill.student.TrainingSettings(1, 8, 1, 1,
                        "adam", 0.01, 0.9, "constant", 0.5, 1, 0, 3), 1),
                model.toFile(), false);
        Path job = job("  teacher { source = load, model = \"" + model + "\" }");
        CliRun r = CliRun.of("train-teacher", job.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("distill: train-teacher: there is no teacher to train: kd.teacher.source = load"
                + " reads it from " + model + "; set kd.teacher.source = train to train one here\n");
        assertThat(out).doesNotExist();
    }

    @Test
    void usageErrors() {
        CliRun none = CliRun.of();
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).startsWith("distill: missing command\nusage: distill <command> <job.conf>");
        CliRun unknown = CliRun.of("distil", "x.conf");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).startsWith("distill: unknown command 'distil'\n");
        CliRun missing = CliRun.of("run", dir.resolve("nope.conf").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).isEqualTo("distill: configuration error in " + dir.resolve("nope.conf") + ":\n"
                + "  job file = " + dir.resolve("nope.conf") + ": no such file (looked in "
                + Path.of("").toAbsolutePath() + "); pass a HOCON job file such as conf/fashion-mnist.conf: a local"
                + " path, a file shipped with spark-submit --files (by its file name), or a Hadoop URI such as"
                + " hdfs:///jobs/my.conf\n");
        CliRun folder = CliRun.of("run", dir.toString());
        assertThat(folder.code()).isEqualTo(2);
        assertThat(folder.err()).isEqualTo("distill: configuration error in " + dir + ":\n  job file = " + dir
                + ": is a folder; pass a HOCON job file such as conf/fashion-mnist.conf\n");
        CliRun noValue = CliRun.of("run", "x.conf", "-Dkd.student.training.epochs");
        assertThat(noValue.code()).isEqualTo(2);
        assertThat(noValue.err()).isEqualTo("distill: -Dkd.student.training.epochs: expected -Dkey=value with no spaces"
                + " around = (e.g. -Dkd.student.training.epochs=3)\n");
        CliRun help = CliRun.of("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("train-teacher", "label", "train-student", "evaluate", "export", "run");
    }

    @Test
    void hoconSyntaxErrorsAreConfigurationErrors() throws Exception {
        Path job = Files.writeString(dir.resolve("bad.conf"), "kd { student { ");
        CliRun r = CliRun.of("run", job.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("job file = " + job + ": cannot parse: ");
    }

    @Test
    void aLoadedTeacherWithAnotherClassCountIsCaughtBeforeSpark() throws Exception {
        org.deeplearning4j.nn.multilayer.MultiLayerNetwork five = new org.deeplearning4j.nn.multilayer.MultiLayerNetwork(
                new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().list()
                        .layer(new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(784).nOut(8).build())
                        .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(8).nOut(5).build())
                        .build());
        five.init();
        Path zip = dir.resolve("five.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(five, zip.toFile(), false);
        CliRun r = run("  teacher { source = load, model = \"" + zip + "\" }");
        assertThat(r.err()).contains(":3: kd.teacher.model = \"" + zip + "\": the teacher has 5 output classes but"
                + " kd.dataset.num-classes = 10 (the student's class count); they must match\n");
    }
}
