package dev.distill.student.quant;

import dev.distill.student.FlatArrays;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * ReLU or identity followed by a uint8 fake quantiser of its output, for quantisation-aware training.
 *
 * <p>Forward: {@code a = inner(z)}; when {@link #isActive() active}, {@code a ← (q(a) − zp) · scale} with the
 * activation quantiser of {@link Quantisers.Range} over the tracked range. In training the range follows an
 * exponential moving average of each batch's min and max ({@code r ← decay · r + (1 − decay) · batch}; the
 * first batch sets it), from the first step, so it has settled by the time quantisation starts.
 *
 * <p>Backward: the straight-through estimator with clipping (Bengio et al. 2013; Jacob et al. 2018):
 * rounding is treated as the identity, so {@code dL/dz = dL/da' · inner'(z)} where {@code inner(z)} lies in
 * the range and 0 where the quantiser clamps it.
 *
 * <p>The range is part of the layer's configuration (JSON), so a saved model carries it to the export;
 * the trainer averages it across workers with the parameters ({@link Qat}).
 */
public class QuantisedActivation extends BaseActivationFunction {
    @JsonProperty
    private boolean relu;
    @JsonProperty
    private double decay = 0.99;
    @JsonProperty
    private float lo;
    @JsonProperty
    private float hi;
    @JsonProperty
    private boolean seen;
    @JsonProperty
    private boolean active;

    public QuantisedActivation() {
    }

    public QuantisedActivation(boolean relu, double decay) {
        this.relu = relu;
        this.decay = decay;
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        float[] a = FlatArrays.of(in);
        if (relu) {
            for (int i = 0; i < a.length; i++) {
                a[i] = Math.max(a[i], 0f);
            }
        }
        if (training) {
            track(a);
        }
        if (active) {
            Quantisers.Range r = range();
            for (int i = 0; i < a.length; i++) {
                a[i] = r.fake(a[i]);
            }
        }
        if (!in.isAttached()) {
            // DL4J hands an input quantiser (an ActivationLayer) the caller's own array at inference: never
            // write into it, and give the next layer an array in the current workspace (if any).
            return Nd4j.create(a, in.shape(), 'c');
        }
        if (relu || active) {
            in.assign(Nd4j.create(a, in.shape(), 'c'));
        }
        return in;
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        float[] z = FlatArrays.of(in);
        float[] g = FlatArrays.of(epsilon);
        Quantisers.Range r = active ? range() : null;
        for (int i = 0; i < z.length; i++) {
            float a = relu ? Math.max(z[i], 0f) : z[i];
            boolean pass = (!relu || z[i] > 0) && (r == null || (a >= r.lo() && a <= r.hi()));
            z[i] = pass ? g[i] : 0f;
        }
        in.assign(Nd4j.create(z, in.shape(), 'c'));
        return new Pair<>(in, null);
    }

    /** Folds one batch's min and max into the moving-average range. */
    void track(float[] a) {
        if (a.length == 0) {
            return;
        }
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : a) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        if (!seen) {
            lo = min;
            hi = max;
            seen = true;
        } else {
            lo = (float) (decay * lo + (1 - decay) * min);
            hi = (float) (decay * hi + (1 - decay) * max);
        }
    }

    /** The tracked range, widened to contain 0. */
    public Quantisers.Range range() {
        return new Quantisers.Range(lo, hi);
    }

    public boolean isRelu() {
        return relu;
    }

    public boolean isActive() {
        return active;
    }

    public void setActive(boolean active) {
        this.active = active;
    }

    public boolean hasSeenData() {
        return seen;
    }

    /** Sets the range (after averaging across workers); {@code seen} false leaves it to the next batch. */
    public void setRange(float lo, float hi, boolean seen) {
        this.lo = lo;
        this.hi = hi;
        this.seen = seen;
    }

    public float lo() {
        return lo;
    }

    public float hi() {
        return hi;
    }

    @Override
    public String toString() {
        return (relu ? "relu" : "identity") + "+fakequant[" + lo + ", " + hi + (active ? "" : ", inactive") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantisedActivation q && q.relu == relu && q.decay == decay && q.lo == lo && q.hi == hi
                && q.seen == seen && q.active == active;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(relu, decay, lo, hi, seen, active);
    }
}
