package dev.distill.student.spark;

import java.io.Serializable;

/** What one epoch of training did: mean loss, examples, rounds, seconds, and (when evaluated) test accuracy. */
public record EpochStats(int epoch, double meanLoss, long examples, int rounds, double seconds, double testAccuracy)
        implements Serializable {
}
