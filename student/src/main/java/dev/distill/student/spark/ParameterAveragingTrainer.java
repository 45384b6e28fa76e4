package dev.distill.student.spark;

import dev.distill.datasets.augment.Augmentation;
import dev.distill.student.FlatArrays;
import dev.distill.student.TrainingHooks;
import dev.distill.student.TrainingSettings;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Synchronous parameter averaging on plain Spark operations (Zinkevich et al., "Parallelized Stochastic
 * Gradient Descent", 2010; the scheme of DL4J's former Spark trainer, which does not run on Spark 4).
 *
 * <p>Each round broadcasts the flat parameters and updater state; every worker partition loads them into
 * its pooled network, fits {@code averaging-frequency} minibatches, and returns parameters and updater
 * state weighted by the examples it saw; they are added in partition order ({@link #sumInPartitionOrder}, so
 * the result does not depend on which task finished first) and the driver divides by the example count. A failed task is recomputed by Spark from the same broadcast, so a retried round contributes once.
 * After every epoch the state is checkpointed atomically; a rerun with the same settings resumes from it.
 */
public final class ParameterAveragingTrainer {
    private static final Logger LOG = LoggerFactory.getLogger(ParameterAveragingTrainer.class);

    /** Called on the driver after each epoch with the current network; returns test accuracy or NaN. */
    public interface EpochListener {
        double afterEpoch(int epoch, MultiLayerNetwork network);
    }

    /** The trained network, per-epoch statistics, and the epoch training resumed from (0 for a fresh start). */
    public record Result(MultiLayerNetwork network, List<EpochStats> history, int resumedFromEpoch) {
    }

    /** Sums of one round across workers. */
    record RoundSum(float[] params, float[] state, float[] hookState, long examples, double lossSum, int steps)
            implements Serializable {
        RoundSum add(RoundSum o) {
            addTo(params, o.params);
            addTo(state, o.state);
            addTo(hookState, o.hookState);
            return new RoundSum(params, state, hookState, examples + o.examples, lossSum + o.lossSum,
                    Math.max(steps, o.steps));
        }

        private static void addTo(float[] sum, float[] x) {
            for (int i = 0; i < sum.length; i++) {
                sum[i] += x[i];
            }
        }
    }

    private final String name;
    private final TrainingSettings settings;
    private final int workers;
    private final String checkpointFile;
    private TrainingHooks hooks;
    private float[] initialParams;
    private Augmentation augmentation = Augmentation.NONE;
    private int[] inputShape = new int[0];
    private String scoredOn = "test";
    private java.util.function.Consumer<EpochStats> onEpoch;
    /** Seconds between progress lines within an epoch. */
    static final double PROGRESS_SECONDS = 10;

    /**
     * @param name           what is trained, for logs ("teacher", "student", "baseline")
     * @param checkpointFile where to checkpoint each epoch (any Hadoop path), or null for none
     */
    public ParameterAveragingTrainer(String name, TrainingSettings settings, int workers, String checkpointFile) {
        this.name = name;
        this.settings = settings;
        this.workers = workers;
        this.checkpointFile = checkpointFile;
    }

    /** Starts from these parameters instead of a random initialisation (unless resuming from a checkpoint). */
    public ParameterAveragingTrainer withInitialParams(float[] params) {
        this.initialParams = params == null ? null : params.clone();
        return this;
    }

    /** Called on the driver after every epoch (after its checkpoint is written), for metrics files. */
    public ParameterAveragingTrainer onEpoch(java.util.function.Consumer<EpochStats> sink) {
        this.onEpoch = sink;
        return this;
    }

    /**
     * Shows each row through a random view of {@code augmentation} each epoch, drawn from (seed, id, epoch), for
     * inputs of {@code shape} [C, H, W]; rows with stored views are shown through one of those instead.
     */
    public ParameterAveragingTrainer withAugmentation(Augmentation augmentation, int[] shape) {
        this.augmentation = augmentation == null ? Augmentation.NONE : augmentation;
        this.inputShape = shape.clone();
        if (this.augmentation.enabled()) {
            new ViewRenderer(this.augmentation, shape, 0);   // checks the shape
        }
        return this;
    }

    /** Names the rows the epoch listener scores on, for the log ("test" unless told otherwise). */
    public ParameterAveragingTrainer scoredOn(String split) {
        this.scoredOn = split;
        return this;
    }

    /** Runs {@code hooks} (quantisation-aware training, …) around every step; null for none. */
    public ParameterAveragingTrainer withHooks(TrainingHooks hooks) {
        this.hooks = hooks;
        return this;
    }

    /**
     * Trains from a fresh network, or resumes from the checkpoint when it was made with the same network,
     * settings (other than the epoch count), workers and {@code dataKey} (anything identifying the data).
     */
    public Result train(JavaSparkContext sc, JavaRDD<PackedBatch> batches, MultiLayerConfiguration conf,
                        String dataKey, EpochListener listener) {
        String json = conf.toJson();
        MultiLayerNetwork driver = NetworkPool.newNetwork(json);
        if (initialParams != null) {
            if (initialParams.length != driver.numParams()) {
                throw new IllegalArgumentException("initial parameters: " + initialParams.length + " values for a network"
                        + " of " + driver.numParams());
            }
            driver.setParams(Nd4j.createFromArray(initialParams).reshape(1, initialParams.length));
        }
        float[] params = FlatArrays.of(driver.params());
        INDArray stateView = driver.getUpdater().getStateViewArray();
        float[] state = stateView == null ? new float[0] : FlatArrays.of(stateView);
        float[] hookState = hooks == null ? new float[0] : hooks.state(driver);
        String fingerprint = Checkpoint.fingerprintOf(json, settings.withEpochs(0).toString(), Integer.toString(workers),
                dataKey, initialParams == null ? "" : Integer.toHexString(java.util.Arrays.hashCode(initialParams)),
                hooks == null ? "" : hooks.toString(), augmentation.enabled() ? augmentation.toString() : "");
        int startEpoch = 0;
        int iteration = 0;
        if (checkpointFile != null) {
            Checkpoint ck = Checkpoint.readCurrent(sc.hadoopConfiguration(), checkpointFile, LOG, name);
            if (ck != null && ck.fingerprint().equals(fingerprint) && ck.epoch() + 1 > settings.epochs()) {
                LOG.info("{}: ignoring checkpoint {}: it is after epoch {}, beyond the {} epochs asked for", name,
                        checkpointFile, ck.epoch() + 1, settings.epochs());
            } else if (ck != null && ck.fingerprint().equals(fingerprint) && ck.params().length == params.length
                    && ck.updaterState().length == state.length && ck.hookState().length == hookState.length) {
                params = ck.params();
                state = ck.updaterState();
                hookState = ck.hookState();
                startEpoch = ck.epoch() + 1;
                iteration = ck.iteration();
                LOG.info("{}: resuming from checkpoint {} after epoch {}", name, checkpointFile, ck.epoch() + 1);
            } else if (ck != null) {
                LOG.info("{}: ignoring checkpoint {}: it was made with other settings", name, checkpointFile);
            }
        }
        List<Integer> counts = batches.mapPartitions(it -> {
            int n = 0;
            while (it.hasNext()) {
                it.next();
                n++;
            }
            return Collections.singletonList(n).iterator();
        }).collect();
        int maxBatches = counts.stream().mapToInt(Integer::intValue).max().orElse(0);
        if (maxBatches == 0) {
            throw new IllegalArgumentException(name + ": no training rows");
        }
        int freq = settings.averagingFrequency();
        int rounds = (maxBatches + freq - 1) / freq;
        int taskCpus = Integer.parseInt(sc.getConf().get("spark.task.cpus", "1"));
        long seed = settings.seed();
        LOG.info("{}: {} parameters, {} workers, {} minibatches of <= {} per worker, {} rounds per epoch",
                name, String.format("%,d", params.length), counts.size(), maxBatches, settings.batchSize(), rounds);

        List<EpochStats> history = new ArrayList<>();
        long lastProgress = System.nanoTime();
        for (int epoch = startEpoch; epoch < settings.epochs(); epoch++) {
            long t0 = System.nanoTime();
            lastProgress = t0;
            double lossSum = 0;
            long examples = 0;
            for (int round = 0; round < rounds; round++) {
                Broadcast<float[]> bParams = sc.broadcast(params);
                Broadcast<float[]> bState = sc.broadcast(state);
                final float[] hs = hookState;
                final TrainingHooks h = hooks;
                final int ep = epoch;
                final int rd = round;
                final int it0 = iteration;
                final ViewRenderer views = new ViewRenderer(augmentation, inputShape, seed);
                RoundSum sum = sumInPartitionOrder(batches.mapPartitionsWithIndex((p, it) ->
                        runRound(json, it, p, ep, rd, freq, seed, it0, taskCpus, bParams, bState, h, hs, views), true));
                bParams.unpersist(false);
                bState.unpersist(false);
                params = scale(sum.params(), 1.0f / sum.examples());
                state = scale(sum.state(), 1.0f / sum.examples());
                hookState = scale(sum.hookState(), 1.0f / sum.examples());
                iteration += sum.steps();
                lossSum += sum.lossSum();
                examples += sum.examples();
                double elapsed = (System.nanoTime() - t0) / 1e9;
                if (round + 1 < rounds && (System.nanoTime() - lastProgress) / 1e9 >= PROGRESS_SECONDS) {
                    lastProgress = System.nanoTime();
                    double perRound = elapsed / (round + 1);
                    LOG.info(String.format("%s: epoch %d/%d  round %d/%d  loss %.4f  %.0f examples/s  (about %.0f s"
                                    + " left in this epoch, %.0f s in all)", name, epoch + 1, settings.epochs(), round + 1,
                            rounds, lossSum / examples, examples / elapsed, perRound * (rounds - round - 1),
                            perRound * (rounds - round - 1) + perRound * rounds * (settings.epochs() - epoch - 1)));
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            driver.setParams(Nd4j.createFromArray(params).reshape(1, params.length));
            if (state.length > 0) {
                driver.getUpdater().getStateViewArray().assign(Nd4j.createFromArray(state).reshape(1, state.length));
            }
            driver.setEpochCount(epoch + 1);
            driver.setIterationCount(iteration);
            if (hooks != null) {
                hooks.setState(driver, hookState);
                hooks.sync(driver, iteration);
            }
            double acc = listener == null ? Double.NaN : listener.afterEpoch(epoch, driver);
            EpochStats stats = new EpochStats(epoch + 1, lossSum / examples, examples, rounds, seconds, acc);
            history.add(stats);
            int left = settings.epochs() - epoch - 1;
            LOG.info(String.format("%s: epoch %d/%d  loss %.4f%s  %.0f examples/s  %.1f s  (about %.0f s left)",
                    name, epoch + 1, settings.epochs(), stats.meanLoss(),
                    Double.isNaN(acc) ? "" : String.format("  %s accuracy %.2f%%", scoredOn, 100 * acc),
                    examples / seconds, seconds, left * seconds));
            if (checkpointFile != null) {
                new Checkpoint(fingerprint, epoch, iteration, params, state, hookState)
                        .write(sc.hadoopConfiguration(), checkpointFile);
            }
            if (onEpoch != null) {
                onEpoch.accept(stats);
            }
        }
        if (startEpoch > 0 && history.isEmpty()) {
            driver.setParams(Nd4j.createFromArray(params).reshape(1, params.length));
            if (hooks != null) {
                hooks.setState(driver, hookState);
                hooks.sync(driver, iteration);
            }
        }
        return new Result(driver, history, startEpoch);
    }

    /** Partitions whose sums the driver collects and adds itself; above this, groups are summed on executors. */
    static final int DIRECT_SUM_PARTITIONS = 8;

    /**
     * The sum of every partition's {@link RoundSum}, added in partition order. Floating-point addition is
     * not associative, and Spark's tree reduce adds partial sums in the order their tasks finish, so two
     * identical runs (or a run in which a lost task was recomputed) would average to slightly different
     * parameters. Up to {@value #DIRECT_SUM_PARTITIONS} partitions the driver adds them in order; beyond,
     * groups of about sqrt(n) consecutive partitions are added in order on the executors first, so the
     * driver receives about sqrt(n) sums, as with a tree reduce of depth 2.
     */
    static RoundSum sumInPartitionOrder(JavaRDD<RoundSum> sums) {
        int n = sums.getNumPartitions();
        JavaPairRDD<Integer, RoundSum> indexed = sums.mapPartitionsWithIndex((p, it) -> {
            List<Tuple2<Integer, RoundSum>> out = new ArrayList<>();
            it.forEachRemaining(r -> out.add(new Tuple2<>(p, r)));
            return out.iterator();
        }, true).mapToPair(t -> t);
        List<Tuple2<Integer, RoundSum>> parts;
        if (n <= DIRECT_SUM_PARTITIONS) {
            parts = new ArrayList<>(indexed.collect());
        } else {
            int group = (int) Math.ceil(Math.sqrt(n));
            parts = new ArrayList<>(indexed.mapToPair(t -> new Tuple2<>(t._1() / group, t))
                    .groupByKey((n + group - 1) / group)
                    .mapValues(ParameterAveragingTrainer::addInOrder)
                    .mapToPair(t -> new Tuple2<>(t._1(), t._2()))
                    .collect());
        }
        parts.sort(java.util.Comparator.comparing(Tuple2::_1));
        RoundSum total = null;
        for (Tuple2<Integer, RoundSum> t : parts) {
            total = total == null ? t._2() : total.add(t._2());
        }
        if (total == null) {
            throw new IllegalStateException("no partition returned a round sum");
        }
        return total;
    }

    private static RoundSum addInOrder(Iterable<Tuple2<Integer, RoundSum>> members) {
        List<Tuple2<Integer, RoundSum>> sorted = new ArrayList<>();
        members.forEach(sorted::add);
        sorted.sort(java.util.Comparator.comparing(Tuple2::_1));
        RoundSum total = null;
        for (Tuple2<Integer, RoundSum> t : sorted) {
            total = total == null ? t._2() : total.add(t._2());
        }
        return total;
    }

    private static Iterator<RoundSum> runRound(String json, Iterator<PackedBatch> it, int partition, int epoch, int round,
                                               int freq, long seed, int iteration, int taskCpus,
                                               Broadcast<float[]> bParams, Broadcast<float[]> bState,
                                               TrainingHooks hooks, float[] hookState, ViewRenderer views) {
        List<PackedBatch> all = new ArrayList<>();
        it.forEachRemaining(all::add);
        int from = round * freq;
        int to = Math.min(from + freq, all.size());
        if (from >= to) {
            return Collections.emptyIterator();
        }
        List<Integer> order = epochOrder(all.size(), seed, epoch, partition);
        NetworkPool.limitThreads(taskCpus);
        MultiLayerNetwork net = NetworkPool.borrow(json);
        try {
            float[] p = bParams.value();
            float[] s = bState.value();
            net.setParams(Nd4j.createFromArray(p).reshape(1, p.length));
            if (s.length > 0) {
                net.getUpdater().getStateViewArray().assign(Nd4j.createFromArray(s).reshape(1, s.length));
            }
            net.setIterationCount(iteration);
            net.setEpochCount(epoch);
            if (hooks != null) {
                hooks.setState(net, hookState);
                hooks.startRound(net, iteration);
            }
            // Dropout masks come from this thread's ND4J generator; Spark runs a partition on whichever
            // thread is free, so seed it from (seed, epoch, round, partition) to make training reproducible.
            Nd4j.getRandom().setSeed(seed * 1_000_003L + epoch * 10_007L + round * 101L + partition);
            double loss = 0;
            long examples = 0;
            // Input arrays are allocated once per round and refilled: off-heap allocation per minibatch costs
            // as much as fitting a small network, and contends between concurrent tasks.
            INDArray x = null;
            INDArray y = null;
            for (int i = from; i < to; i++) {
                PackedBatch b = all.get(order.get(i));
                int width = b.labels().length / b.rows();
                if (x == null || x.size(0) != b.rows()) {
                    x = Nd4j.create(DataType.FLOAT, b.rows(), b.features().length / b.rows());
                    y = Nd4j.create(DataType.FLOAT, b.rows(), width);
                }
                views.render(b, epoch);
                x.data().setData(views.features(b));
                y.data().setData(views.labels(b));
                long step = (long) iteration + (i - from);
                if (hooks != null) {
                    hooks.beforeStep(net, step);
                }
                net.fit(new DataSet(x, y));
                if (hooks != null) {
                    hooks.afterStep(net, step);
                }
                loss += net.score() * b.rows();
                examples += b.rows();
            }
            float[] params = scale(FlatArrays.of(net.params()), examples);
            INDArray sv = net.getUpdater().getStateViewArray();
            float[] state = sv == null ? new float[0] : scale(FlatArrays.of(sv), examples);
            float[] hs = hooks == null ? new float[0] : scale(hooks.state(net), examples);
            return Collections.singletonList(new RoundSum(params, state, hs, examples, loss, to - from)).iterator();
        } finally {
            NetworkPool.giveBack(json, net);
        }
    }

    /** The order a worker visits its minibatches in: the same in every round of an epoch, new each epoch. */
    static List<Integer> epochOrder(int batches, long seed, int epoch, int partition) {
        List<Integer> order = new ArrayList<>(batches);
        for (int i = 0; i < batches; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed * 7919L + epoch * 1_000_003L + partition));
        return order;
    }

    private static float[] scale(float[] xs, float factor) {
        for (int i = 0; i < xs.length; i++) {
            xs[i] *= factor;
        }
        return xs;
    }
}
