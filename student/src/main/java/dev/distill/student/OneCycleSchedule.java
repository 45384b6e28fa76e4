package dev.distill.student;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * The one-cycle learning-rate schedule of Smith and Topurkoglu, "Super-Convergence" (2018), in the cosine
 * form of PyTorch's {@code OneCycleLR}: the rate rises from {@code peak / 25} to {@code peak} over the first
 * {@code warmup} share of training, then falls to {@code peak / 25 / 10⁴}, both along half a cosine. With
 * progress {@code t ∈ [0, 1]} through training and warm-up share {@code w}:
 *
 * <pre>
 *   lr(t) = lo + (peak − lo) · (1 − cos(π t / w)) / 2                 for t &lt; w   (lo = peak / 25)
 *   lr(t) = end + (peak − end) · (1 + cos(π (t − w) / (1 − w))) / 2   for t ≥ w   (end = lo / 10⁴)
 * </pre>
 *
 * With {@code w = 0} this is cosine decay from {@code peak}. The rate changes once per epoch, taking the
 * value at the epoch's midpoint, {@code t = (epoch + 0.5) / epochs}: the trainer's workers count iterations
 * across rounds of parameter averaging, so the epoch is the unit every worker agrees on. Because the curve
 * depends on the total epoch count, that count is part of the schedule (and of the network configuration,
 * so a checkpoint of a shorter one-cycle run is not resumed by a longer one).
 */
public class OneCycleSchedule implements ISchedule {
    private static final long serialVersionUID = 1L;
    /** PyTorch's {@code div_factor}: the starting rate is the peak divided by this. */
    static final double START_DIVISOR = 25;
    /** PyTorch's {@code final_div_factor}: the last rate is the starting rate divided by this. */
    static final double FINAL_DIVISOR = 1e4;

    @JsonProperty("peak")
    private final double peak;
    @JsonProperty("epochs")
    private final int epochs;
    @JsonProperty("warmup")
    private final double warmup;

    @JsonCreator
    public OneCycleSchedule(@JsonProperty("peak") double peak, @JsonProperty("epochs") int epochs,
                            @JsonProperty("warmup") double warmup) {
        if (!(peak > 0) || epochs < 1 || !(warmup >= 0 && warmup < 1)) {
            throw new IllegalArgumentException("one-cycle schedule: peak " + peak + " must be > 0, epochs " + epochs
                    + " >= 1 and warm-up share " + warmup + " in [0, 1)");
        }
        this.peak = peak;
        this.epochs = epochs;
        this.warmup = warmup;
    }

    /** The rate at progress {@code t ∈ [0, 1]} through training. */
    double at(double t) {
        double lo = peak / START_DIVISOR;
        if (t < warmup) {
            return lo + (peak - lo) * (1 - Math.cos(Math.PI * t / warmup)) / 2;
        }
        double end = lo / FINAL_DIVISOR;
        return end + (peak - end) * (1 + Math.cos(Math.PI * (t - warmup) / (1 - warmup))) / 2;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        int e = Math.min(Math.max(epoch, 0), epochs - 1);
        return at((e + 0.5) / epochs);
    }

    @Override
    public ISchedule clone() {
        return new OneCycleSchedule(peak, epochs, warmup);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OneCycleSchedule s && s.peak == peak && s.epochs == epochs && s.warmup == warmup;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(peak) * 31 * 31 + epochs * 31 + Double.hashCode(warmup);
    }

    @Override
    public String toString() {
        return "OneCycleSchedule(peak=" + peak + ", epochs=" + epochs + ", warmup=" + warmup + ")";
    }
}
