package dev.distill.student.spark;

import dev.distill.student.Evaluation;
import dev.distill.student.TrainingHooks;
import dev.distill.student.export.Int8Exporter;
import dev.distill.datasets.ExampleSchema;
import dev.distill.student.FlatArrays;
import dev.distill.student.loss.HintonLoss;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import dev.distill.testing.LocalSpark;
import dev.distill.testing.Synthetic;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestParameterAveragingTrainer {
    static SparkSession spark;
    static JavaSparkContext sc;
    static Dataset<Row> train;
    static Dataset<Row> test;
    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
        sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        train = rows(Synthetic.blobs(512, 8, 3, 0.8, 11), 0);
        test = rows(Synthetic.blobs(256, 8, 3, 0.8, 11), 10_000);
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    static Dataset<Row> rows(Synthetic.Blobs b, long firstId) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < b.y().length; i++) {
            rows.add(RowFactory.create(firstId + i, b.x()[i], b.y()[i]));
        }
        return spark.createDataFrame(rows, ExampleSchema.SCHEMA);
    }

    static NetworkSpec spec() {
        return new NetworkSpec(new int[] {8}, 3, List.of(LayerSpec.dense(16)));
    }

    static TrainingSettings settings(int epochs, int workers, int freq) {
        return new TrainingSettings(epochs, 32, workers, freq, "adam", 0.01, 0.9, "constant", 0.5, 1, 0, 5);
    }

    @Test
    void oneWorkerReproducesPlainDl4jFitExactly() {
        TrainingSettings t = settings(2, 1, 3);
        MultiLayerConfiguration conf = spec().toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 1, 32, 5, false);
        var result = new ParameterAveragingTrainer("test", t, 1, null).train(sc, batches, conf, "d", null);

        assertSameAsPlainDl4j(result.network(), conf, batches.collect(), 2);
        assertThat(result.history()).hasSize(2);
        assertThat(result.history().get(1).examples()).isEqualTo(512);
        batches.unpersist();
    }

    /**
     * A one-cycle schedule reaches the workers (through the network's JSON) and follows the epoch: one worker
     * gives what plain DL4J gives when told the epoch before each one. Were the epoch not passed on, every
     * epoch would run at the first epoch's rate and the parameters would differ.
     */
    @Test
    void aOneCycleScheduleFollowsTheEpochOnTheWorkers() {
        TrainingSettings t = new TrainingSettings(3, 32, 1, 3, "adam", 0.02, 0.9, "one-cycle", 0.5, 1, 0.3, 0, 5,
                false);
        MultiLayerConfiguration conf = spec().toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 1, 32, 5, false);
        var result = new ParameterAveragingTrainer("test", t, 1, null).train(sc, batches, conf, "d", null);

        assertSameAsPlainDl4j(result.network(), conf, batches.collect(), 3);
        batches.unpersist();
    }

    /**
     * {@code trained} has the parameters of plain DL4J fitting {@code packed} for {@code epochs} epochs in the
     * trainer's order, told the epoch before each one.
     */
    private static void assertSameAsPlainDl4j(MultiLayerNetwork trained, MultiLayerConfiguration conf,
                                              List<PackedBatch> packed, int epochs) {
        MultiLayerNetwork plain = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(conf.toJson()));
        plain.init();
        for (int epoch = 0; epoch < epochs; epoch++) {
            plain.setEpochCount(epoch);
            for (int i : ParameterAveragingTrainer.epochOrder(packed.size(), 5, epoch, 0)) {
                PackedBatch b = packed.get(i);
                plain.fit(new DataSet(Nd4j.create(b.features(), new long[] {b.rows(), 8}, 'c'),
                        Nd4j.create(b.labels(), new long[] {b.rows(), 7}, 'c')));
            }
        }
        float[] expected = plain.params().toFloatVector();
        float[] actual = trained.params().toFloatVector();
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("parameter %d", i).isCloseTo(expected[i], within(1e-5f + 1e-5f * Math.abs(expected[i])));
        }
    }

    /**
     * The batches depend on the rows, the seed and the worker count only: the same rows arriving in another
     * order and partitioning (as after a shuffle, or when a lost task is recomputed) give identical batches,
     * and the two workers get nearly equal shares.
     */
    @Test
    void packingDoesNotDependOnRowOrderOrPartitioning() {
        List<Row> reversed = new ArrayList<>(train.collectAsList());
        java.util.Collections.reverse(reversed);
        Dataset<Row> shuffled = spark.createDataFrame(reversed, ExampleSchema.SCHEMA).repartition(7);
        List<List<float[]>> runs = new ArrayList<>();
        for (Dataset<Row> rows : List.of(train, shuffled)) {
            JavaRDD<PackedBatch> batches = BatchPacker.pack(rows, 3, 8, 2, 32, 5, false);
            List<float[]> flat = new ArrayList<>();
            for (PackedBatch b : batches.collect()) {
                flat.add(b.features());
                flat.add(b.labels());
            }
            runs.add(flat);
            int[] perWorker = batches.mapPartitions(it -> {
                int n = 0;
                while (it.hasNext()) {
                    n += it.next().rows();
                }
                return java.util.List.of(n).iterator();
            }).collect().stream().mapToInt(Integer::intValue).toArray();
            assertThat(perWorker[0] + perWorker[1]).isEqualTo(512);
            assertThat(Math.abs(perWorker[0] - perWorker[1])).as("rows per worker %s", java.util.Arrays.toString(perWorker))
                    .isLessThan(64);
            batches.unpersist();
        }
        assertThat(runs.get(1)).hasSameSizeAs(runs.get(0));
        for (int i = 0; i < runs.get(0).size(); i++) {
            assertThat(runs.get(1).get(i)).as("array %d", i).containsExactly(runs.get(0).get(i));
        }
    }

    /**
     * Round sums are added in partition order, whichever task finishes first: the result is bit for bit the
     * in-order sum, for a few partitions (added on the driver) and for many (in order within groups of
     * consecutive partitions on the executors, then the groups in order).
     */
    @Test
    void roundSumsAreAddedInPartitionOrder() {
        for (int n : new int[] {3, 8, 13}) {
            java.util.Random r = new java.util.Random(n);
            List<ParameterAveragingTrainer.RoundSum> parts = new ArrayList<>();
            for (int p = 0; p < n; p++) {
                float[] x = new float[5];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8) - 4));
                }
                parts.add(new ParameterAveragingTrainer.RoundSum(x, x.clone(), new float[0], p + 1, p, 1));
            }
            // In order; beyond DIRECT_SUM_PARTITIONS in order within groups of ceil(sqrt(n)), then the groups in order.
            int group = n <= ParameterAveragingTrainer.DIRECT_SUM_PARTITIONS ? n : (int) Math.ceil(Math.sqrt(n));
            float[] expected = null;
            for (int g = 0; g < n; g += group) {
                float[] partial = parts.get(g).params().clone();
                for (int p = g + 1; p < Math.min(n, g + group); p++) {
                    for (int i = 0; i < 5; i++) {
                        partial[i] += parts.get(p).params()[i];
                    }
                }
                if (expected == null) {
                    expected = partial;
                } else {
                    for (int i = 0; i < 5; i++) {
                        expected[i] += partial[i];
                    }
                }
            }
            List<ParameterAveragingTrainer.RoundSum> copies = new ArrayList<>();
            for (var part : parts) {
                copies.add(new ParameterAveragingTrainer.RoundSum(part.params().clone(), part.state().clone(),
                        new float[0], part.examples(), part.lossSum(), part.steps()));
            }
            var sum = ParameterAveragingTrainer.sumInPartitionOrder(sc.parallelize(copies, n));
            assertThat(sum.params()).as("%d partitions", n).containsExactly(expected);
            assertThat(sum.examples()).isEqualTo((long) n * (n + 1) / 2);
        }
    }

    @Test
    void twoWorkersLearnAndReportPerEpochAccuracy() {
        TrainingSettings t = settings(4, 2, 2);
        MultiLayerConfiguration conf = spec().toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 2, 32, 5, false);
        assertThat(batches.getNumPartitions()).isEqualTo(2);
        assertThat(batches.map(PackedBatch::rows).collect().stream().mapToInt(Integer::intValue).sum()).isEqualTo(512);
        var result = new ParameterAveragingTrainer("test", t, 2, null).train(sc, batches, conf, "d",
                (epoch, net) -> ClusterEvaluator.evaluate(test, net, 3).accuracy());
        assertThat(result.history()).hasSize(4);
        assertThat(result.history().get(3).testAccuracy()).isGreaterThan(0.95);
        assertThat(result.history().get(3).meanLoss()).isLessThan(result.history().get(0).meanLoss());
        batches.unpersist();
    }

    /**
     * The MobileNet-style student (batch norm, depthwise, average and global pooling) trained by two workers,
     * quantisation-aware and pruned: it learns, its weight layers reach the target sparsity, and its int8 file
     * computes what its fake-quantised network computes.
     */
    @Test
    void twoWorkersTrainMobileBlocksQuantisationAwareAndPruned() {
        var data = dev.distill.student.export.TestMobileBlocks.lines(600, 3);
        var held = dev.distill.student.export.TestMobileBlocks.lines(300, 4);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < data.y().length; i++) {
            rows.add(RowFactory.create((long) i, data.x()[i], data.y()[i]));
        }
        Dataset<Row> lines = spark.createDataFrame(rows, ExampleSchema.SCHEMA);
        NetworkSpec spec = dev.distill.student.export.TestMobileBlocks.mobile()
                .withQuantisation(new dev.distill.student.quant.QuantisationSettings(true, 8, 0, 0.9));
        TrainingSettings t = new TrainingSettings(12, 32, 2, 4, "adam", 0.01, 0.9, "constant", 0.5, 1, 0, 5);
        MultiLayerConfiguration conf = spec.toConfiguration(new HintonLoss(1, 0), t, 5);
        dev.distill.student.quant.Qat qat = dev.distill.student.quant.Qat.of(spec);
        var pruning = dev.distill.student.compress.Pruning.of(spec,
                new dev.distill.student.compress.PruningSettings(true, 0, 0.5, 0, 20, 2));   // the target from step 40 of about 120
        JavaRDD<PackedBatch> batches = BatchPacker.pack(lines, 3, 36, 2, 32, 5, false);
        var result = new ParameterAveragingTrainer("mobile", t, 2, null)
                .withHooks(dev.distill.student.TrainingHooks.compose(pruning, qat)).train(sc, batches, conf, "d", null);
        batches.unpersist();
        MultiLayerNetwork net = result.network();
        assertThat(result.history().get(11).meanLoss()).isLessThan(result.history().get(0).meanLoss());
        for (var layer : dev.distill.student.compress.Pruning.sparsityByLayer(net)) {
            assertThat(layer.sparsity()).as(layer.toString()).isGreaterThanOrEqualTo(0.45);
        }
        dev.distill.runtime.Int8Model m = dev.distill.student.export.Int8Exporter.exportQuantised(net, 8);
        float[] fake = FlatArrays.of(qat.fakeQuantised(net).output(org.nd4j.linalg.factory.Nd4j.create(held.x())));
        int agree = 0;
        for (int r = 0; r < 300; r++) {
            agree += m.predict(held.x()[r]) == dev.distill.student.Evaluation.argmax(
                    java.util.Arrays.copyOfRange(fake, r * 3, r * 3 + 3)) ? 1 : 0;
        }
        assertThat(agree).as("int8 vs fake-quantised agreement of 300").isGreaterThanOrEqualTo(294);
    }

    @Test
    void resumesFromTheLastCheckpointAndMatchesAnUninterruptedRun() {
        String ck = dir.resolve("checkpoint.bin").toString();
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 1, 32, 5, false);
        MultiLayerConfiguration conf = spec().toConfiguration(new HintonLoss(1, 0), settings(3, 1, 4), 5);
        var first = new ParameterAveragingTrainer("test", settings(2, 1, 4), 1, ck).train(sc, batches, conf, "d", null);
        assertThat(first.resumedFromEpoch()).isZero();
        var resumed = new ParameterAveragingTrainer("test", settings(3, 1, 4), 1, ck).train(sc, batches, conf, "d", null);
        assertThat(resumed.resumedFromEpoch()).isEqualTo(2);
        assertThat(resumed.history()).extracting(EpochStats::epoch).containsExactly(3);
        var fresh = new ParameterAveragingTrainer("test", settings(3, 1, 4), 1, null).train(sc, batches, conf, "d", null);
        assertThat(resumed.network().params().toFloatVector())
                .containsExactly(fresh.network().params().toFloatVector(), within(1e-5f));
        // Fewer epochs than the checkpoint holds: trained afresh for the epochs asked for.
        var shorter = new ParameterAveragingTrainer("test", settings(2, 1, 4), 1, ck).train(sc, batches, conf, "d", null);
        assertThat(shorter.resumedFromEpoch()).isZero();
        assertThat(shorter.history()).extracting(EpochStats::epoch).containsExactly(1, 2);
        assertThat(shorter.network().params().toFloatVector())
                .containsExactly(first.network().params().toFloatVector(), within(1e-5f));
        // Other data: the checkpoint is not used.
        var other = new ParameterAveragingTrainer("test", settings(3, 1, 4), 1, ck).train(sc, batches, conf, "other", null);
        assertThat(other.resumedFromEpoch()).isZero();
        batches.unpersist();
    }

    /**
     * Rows of 8 features seen as 2×2×2 images, shifted by up to a pixel and mirrored: two runs with the same seed
     * train the same model; the views change what is learned; and a checkpoint made without them is not resumed.
     */
    @Test
    void augmentedTrainingIsReproducibleAndNeverResumesAPlainCheckpoint() {
        String ck = dir.resolve("checkpoint.bin").toString();
        TrainingSettings t = settings(2, 2, 3);
        int[] shape = {2, 2, 2};
        MultiLayerConfiguration conf = spec().toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 2, 32, 5, false);
        var aug = new dev.distill.datasets.augment.Augmentation(1, 0.5, 0, 0);
        var plain = new ParameterAveragingTrainer("plain", t, 2, ck).train(sc, batches, conf, "d", null);
        var first = new ParameterAveragingTrainer("a", t.withEpochs(3), 2, ck).withAugmentation(aug, shape)
                .train(sc, batches, conf, "d", null);
        assertThat(first.resumedFromEpoch()).as("a checkpoint of plain training").isZero();
        float[] second = FlatArrays.of(new ParameterAveragingTrainer("b", t.withEpochs(3), 2, null)
                .withAugmentation(aug, shape).train(sc, batches, conf, "d", null).network().params());
        assertThat(second).containsExactly(FlatArrays.of(first.network().params()));
        float[] plain3 = FlatArrays.of(new ParameterAveragingTrainer("c", t.withEpochs(3), 2, null)
                .train(sc, batches, conf, "d", null).network().params());
        assertThat(second).isNotEqualTo(plain3);
        assertThat(plain.network().numParams()).isEqualTo(first.network().numParams());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ParameterAveragingTrainer("x", t, 2, null)
                        .withAugmentation(aug, new int[] {8}))
                .hasMessage("augmentation needs image inputs of shape [channels, height, width], not [8]");
        batches.unpersist();
    }

    @Test
    void theSameSeedGivesTheSameModelEvenWithDropoutAndTwoWorkers() {
        NetworkSpec dropout = new NetworkSpec(new int[] {8}, 3,
                List.of(LayerSpec.dense(16).withDropout(0.3)));
        TrainingSettings t = settings(2, 2, 3);
        MultiLayerConfiguration conf = dropout.toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 2, 32, 5, false);
        float[] first = FlatArrays.of(new ParameterAveragingTrainer("a", t, 2, null)
                .train(sc, batches, conf, "d", null).network().params());
        float[] second = FlatArrays.of(new ParameterAveragingTrainer("b", t, 2, null)
                .train(sc, batches, conf, "d", null).network().params());
        assertThat(second).containsExactly(first);
        batches.unpersist();
    }

    /**
     * Quantisation-aware training across two workers: the activation ranges are averaged like the
     * parameters and come back on the driver's network and in the checkpoint; the int8 model exported from
     * them predicts what the fake-quantised network predicts.
     */
    @Test
    void quantisationAwareTrainingAveragesRangesAndExportsWhatItTrained() {
        NetworkSpec qspec = spec().withQuantisation(new dev.distill.student.quant.QuantisationSettings(true, 8, 10, 0.9));
        TrainingSettings t = settings(4, 2, 2);
        MultiLayerConfiguration conf = qspec.toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 2, 32, 5, false);
        dev.distill.student.quant.Qat qat = dev.distill.student.quant.Qat.of(qspec);
        String ck = dir.resolve("qat.bin").toString();
        var result = new ParameterAveragingTrainer("qat", t, 2, ck).withHooks(qat).train(sc, batches, conf, "d", null);
        MultiLayerNetwork net = result.network();
        var quantisers = dev.distill.student.quant.Qat.quantisers(net);
        assertThat(quantisers).hasSize(2).allMatch(dev.distill.student.quant.QuantisedActivation::hasSeenData)
                .allMatch(dev.distill.student.quant.QuantisedActivation::isActive);
        assertThat(quantisers.get(0).lo()).isLessThan(-1f);                     // blobs have negative features
        assertThat(quantisers.get(1).lo()).isEqualTo(0f);                       // after ReLU
        assertThat(quantisers.get(1).hi()).isGreaterThan(0f);
        assertThat(Checkpoint.read(sc.hadoopConfiguration(), ck).hookState())
                .containsExactly(qat.state(net), within(1e-6f));

        MultiLayerNetwork fake = qat.fakeQuantised(net);
        assertThat(dev.distill.student.quant.Qat.quantisers(net)).as("the original is untouched")
                .allMatch(dev.distill.student.quant.QuantisedActivation::isActive);
        Synthetic.Blobs b = Synthetic.blobs(256, 8, 3, 0.8, 11);
        int[] agreeCorrect = int8VersusFakeQuantised(net, fake, b.x(), b.y());
        assertThat(agreeCorrect[0]).as("int8 runtime vs fake-quantised network, of 256").isGreaterThanOrEqualTo(255);
        assertThat(agreeCorrect[1]).as("int8 accuracy, of 256").isGreaterThan(240);
        batches.unpersist();
    }

    /**
     * Low rank, pruning and quantisation-aware training together on two workers, in the documented order
     * (the factorised, pruned network is fake-quantised from a later step): every worker prunes the same
     * weights, so the averaged network is exactly as sparse as scheduled, and its int8 file still predicts
     * what the fake-quantised network predicts.
     */
    @Test
    void lowRankPruningAndQuantisationTrainTogether() {
        NetworkSpec spec = new NetworkSpec(new int[] {8}, 3, List.of(
                LayerSpec.dense(16).withRank(6)))
                .withQuantisation(new dev.distill.student.quant.QuantisationSettings(true, 8, 24, 0.9));
        var prune = new dev.distill.student.compress.PruningSettings(true, 0, 0.5, 0, 2, 4);
        TrainingSettings t = settings(4, 2, 2);
        MultiLayerConfiguration conf = spec.toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(train, 3, 8, 2, 32, 5, false);
        var qat = dev.distill.student.quant.Qat.of(spec);
        var hooks = TrainingHooks.compose(dev.distill.student.compress.Pruning.of(spec, prune), qat);
        MultiLayerNetwork net = new ParameterAveragingTrainer("all", t, 2, null).withHooks(hooks)
                .train(sc, batches, conf, "d", null).network();
        var sparsity = dev.distill.student.compress.Pruning.sparsityByLayer(net);
        assertThat(sparsity).extracting(m -> m.weights()).containsExactly(48L, 96L, 48L);
        assertThat(sparsity).extracting(m -> m.zeros()).containsExactly(24L, 48L, 24L);
        MultiLayerNetwork fake = qat.fakeQuantised(net);
        Synthetic.Blobs b = Synthetic.blobs(256, 8, 3, 0.8, 11);
        int[] agreeCorrect = int8VersusFakeQuantised(net, fake, b.x(), b.y());
        assertThat(agreeCorrect[0]).as("int8 vs fake-quantised, of 256").isGreaterThanOrEqualTo(255);
        assertThat(agreeCorrect[1]).as("int8 accuracy, of 256").isGreaterThan(230);
        batches.unpersist();
    }

    /** A convolutional student trained quantisation-aware on two workers exports an int8 file that matches it. */
    @Test
    void convolutionalStudentsTrainQuantisationAwareAndExport() {
        var data = dev.distill.student.Fixtures.ConvData.of(512, 3);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < data.y().length; i++) {
            rows.add(RowFactory.create((long) i, data.x()[i], data.y()[i]));
        }
        Dataset<Row> images = spark.createDataFrame(rows, ExampleSchema.SCHEMA);
        NetworkSpec spec = new NetworkSpec(new int[] {1, 6, 6}, 3, List.of(
                LayerSpec.conv(4, 3),
                LayerSpec.pool("max", 2)))
                .withQuantisation(new dev.distill.student.quant.QuantisationSettings(true, 8, 8, 0.9));
        TrainingSettings t = settings(6, 2, 2);
        MultiLayerConfiguration conf = spec.toConfiguration(new HintonLoss(1, 0), t, 5);
        JavaRDD<PackedBatch> batches = BatchPacker.pack(images, 3, 36, 2, 32, 5, false);
        var qat = dev.distill.student.quant.Qat.of(spec);
        MultiLayerNetwork net = new ParameterAveragingTrainer("conv", t, 2, null).withHooks(qat)
                .train(sc, batches, conf, "d", null).network();
        MultiLayerNetwork fake = qat.fakeQuantised(net);
        var test = dev.distill.student.Fixtures.ConvData.of(256, 9);
        int[] agreeCorrect = int8VersusFakeQuantised(net, fake, test.x(), test.y());
        assertThat(agreeCorrect[0]).as("int8 vs fake-quantised, of 256").isGreaterThanOrEqualTo(254);
        assertThat(agreeCorrect[1]).as("int8 accuracy, of 256").isGreaterThan(230);
        batches.unpersist();
    }

    /**
     * The int8 file exported from the quantisation-aware {@code net} on rows {@code x} of 3 classes: how many
     * predictions match the fake-quantised network {@code fake}, and how many match the labels {@code y}.
     */
    static int[] int8VersusFakeQuantised(MultiLayerNetwork net, MultiLayerNetwork fake, float[][] x, int[] y) {
        dev.distill.runtime.Int8Model int8 = dev.distill.student.export.Int8Exporter.exportQuantised(net, 8);
        float[] out = FlatArrays.of(fake.output(Nd4j.create(x)));
        int[] agreeCorrect = new int[2];
        for (int r = 0; r < x.length; r++) {
            int p = int8.predict(x[r]);
            agreeCorrect[0] += p == dev.distill.student.Evaluation.argmax(java.util.Arrays.copyOfRange(out, r * 3, r * 3 + 3))
                    ? 1 : 0;
            agreeCorrect[1] += p == y[r] ? 1 : 0;
        }
        return agreeCorrect;
    }
}
