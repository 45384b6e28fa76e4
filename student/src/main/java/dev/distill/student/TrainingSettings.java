package dev.distill.student;

import dev.distill.settings.SettingsReader;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.linalg.schedule.StepSchedule;

/**
 * How a network is trained by the parameter-averaging trainer: epochs, per-worker batch size, number of
 * workers, minibatches between averaging, updater and learning-rate schedule, L2, seed, and whether each
 * example is seen through a random view of {@code kd.augment} each epoch ({@code augment}). Read from a
 * {@code training} section (see the {@code reference.conf} of the student and teacher modules).
 */
public record TrainingSettings(int epochs, int batchSize, int workers, int averagingFrequency, String updaterType,
                               double learningRate, double momentum, String scheduleType, double decayRate,
                               int stepEpochs, double warmup, double l2, long seed, boolean augment) {

    /** Settings without augmentation (a one-cycle schedule warms up over 30% of training). */
    public TrainingSettings(int epochs, int batchSize, int workers, int averagingFrequency, String updaterType,
                            double learningRate, double momentum, String scheduleType, double decayRate,
                            int stepEpochs, double l2, long seed) {
        this(epochs, batchSize, workers, averagingFrequency, updaterType, learningRate, momentum, scheduleType,
                decayRate, stepEpochs, 0.3, l2, seed, false);
    }

    public static TrainingSettings read(SettingsReader r) {
        int epochs = r.integer("epochs", 1, 100_000);
        int batch = r.integer("batch-size", 1, 1 << 20);
        int workers = r.integer("workers", 0, 100_000);
        int freq = r.integer("averaging-frequency", 1, 1 << 20);
        SettingsReader u = r.section("updater");
        String type = u.oneOf("type", "adam", "nesterovs", "sgd");
        double lr = u.positive("learning-rate");
        double momentum = u.numberIn("momentum", 0, 0.999);
        SettingsReader s = r.section("schedule");
        String schedule = s.oneOf("type", "constant", "step", "exponential", "one-cycle");
        double decay = s.numberIn("decay-rate", 0.0, 1.0);
        int step = s.integer("step-epochs", 1, 100_000);
        double warmup = s.numberIn("warmup", 0.0, 0.95);
        double l2 = r.numberIn("l2", 0, 1);
        long seed = r.integer("seed", 0, Integer.MAX_VALUE);
        boolean augment = r.has("augment") && r.bool("augment");
        return new TrainingSettings(epochs, batch, workers, freq, type, lr, momentum, schedule, decay, step, warmup, l2,
                seed, augment);
    }

    /** The DL4J updater, with the learning rate following the schedule by epoch. */
    public IUpdater updater() {
        ISchedule sched = switch (scheduleType) {
            case "one-cycle" -> new OneCycleSchedule(learningRate, epochs, warmup);
            case "step" -> new StepSchedule(ScheduleType.EPOCH, learningRate, decayRate, stepEpochs);
            case "exponential" -> new ExponentialSchedule(ScheduleType.EPOCH, learningRate, decayRate);
            default -> null;
        };
        return switch (updaterType) {
            case "sgd" -> sched == null ? new Sgd(learningRate) : new Sgd(sched);
            case "nesterovs" -> sched == null ? new Nesterovs(learningRate, momentum) : new Nesterovs(sched, momentum);
            default -> sched == null ? new Adam(learningRate) : new Adam(sched);
        };
    }

    /** The same settings with another epoch count (a longer run may resume a shorter one's checkpoint). */
    public TrainingSettings withEpochs(int n) {
        return new TrainingSettings(n, batchSize, workers, averagingFrequency, updaterType, learningRate, momentum,
                scheduleType, decayRate, stepEpochs, warmup, l2, seed, augment);
    }

    /** The same settings with another seed (each seed of {@code distill compare}). */
    public TrainingSettings withSeed(long s) {
        return new TrainingSettings(epochs, batchSize, workers, averagingFrequency, updaterType, learningRate, momentum,
                scheduleType, decayRate, stepEpochs, warmup, l2, s, augment);
    }

    /** The same settings with augmentation on or off. */
    public TrainingSettings withAugment(boolean on) {
        return new TrainingSettings(epochs, batchSize, workers, averagingFrequency, updaterType, learningRate, momentum,
                scheduleType, decayRate, stepEpochs, warmup, l2, seed, on);
    }

    /** The number of workers to use when {@code workers = 0}: the cluster's default parallelism. */
    public int workersOr(int defaultParallelism) {
        return workers > 0 ? workers : Math.max(1, defaultParallelism);
    }
}
