package dev.distill.job.stages;

import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingHooks;
import dev.distill.student.TrainingSettings;
import dev.distill.student.loss.DistillationLoss;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What {@link NetworkTraining#train} trains: which network ({@code who} names its folder: teacher, student
 * or baseline), its architecture, loss and settings, the rows it learns from and is evaluated on, and the
 * optional parts (the teacher's soft targets, compression hooks, starting parameters).
 *
 * @param softTargets   pack the teacher's logits into the targets (a distilled student); else hard labels only
 * @param dataKey       identifies the training rows, so a checkpoint of other data is not resumed
 * @param hooks         compression around each step (pruning), or null; quantisation-aware training is added
 *                      from {@code spec}
 * @param initialParams parameters to start from, or null for a random initialisation
 */
public record TrainingRequest(String who, NetworkSpec spec, DistillationLoss loss, TrainingSettings settings,
                              Dataset<Row> train, Dataset<Row> test, boolean softTargets, String dataKey,
                              TrainingHooks hooks, float[] initialParams, String scoredOn) {

    /** A request for {@code who} with the required parts; set the rows with {@link Builder#rows}. */
    public static Builder builder(String who, NetworkSpec spec, DistillationLoss loss, TrainingSettings settings) {
        return new Builder(who, spec, loss, settings);
    }

    /** Builds a {@link TrainingRequest}; everything but the rows and the data key is optional. */
    public static final class Builder {
        private final String who;
        private final NetworkSpec spec;
        private final DistillationLoss loss;
        private final TrainingSettings settings;
        private Dataset<Row> train;
        private Dataset<Row> test;
        private boolean softTargets;
        private String dataKey;
        private TrainingHooks hooks;
        private float[] initialParams;
        private String scoredOn = "test";

        private Builder(String who, NetworkSpec spec, DistillationLoss loss, TrainingSettings settings) {
            this.who = who;
            this.spec = spec;
            this.loss = loss;
            this.settings = settings;
        }

        /** The rows to train on and the test rows scored after every epoch; {@code dataKey} identifies them. */
        public Builder rows(Dataset<Row> train, Dataset<Row> test, String dataKey) {
            this.train = train;
            this.test = test;
            this.dataKey = dataKey;
            return this;
        }

        public Builder softTargets(boolean soft) {
            this.softTargets = soft;
            return this;
        }

        public Builder hooks(TrainingHooks h) {
            this.hooks = h;
            return this;
        }

        /** What the rows scored after every epoch are, for the log: "test" (the default) or "validation". */
        public Builder scoredOn(String split) {
            this.scoredOn = split;
            return this;
        }

        public Builder initialParams(float[] params) {
            this.initialParams = params;
            return this;
        }

        public TrainingRequest build() {
            if (train == null || test == null || dataKey == null) {
                throw new IllegalStateException(who + ": a training request needs its rows (Builder.rows)");
            }
            return new TrainingRequest(who, spec, loss, settings, train, test, softTargets, dataKey, hooks,
                    initialParams, scoredOn);
        }
    }
}
