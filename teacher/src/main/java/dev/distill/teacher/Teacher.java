package dev.distill.teacher;

/**
 * A model that labels data: a batch of {@code rows} flattened feature rows in, one row of logits per input
 * out. Implementations are not thread-safe; the labelling job uses one per task slot.
 */
public interface Teacher {
    /**
     * Logits, row-major {@code rows × numClasses()}, for {@code rows} rows packed in {@code features} (exactly
     * {@code rows × featureLength()} values). {@code features} is only read during the call: callers reuse it.
     */
    float[] logits(float[] features, int rows);

    int numClasses();

    int featureLength();

    long parameters();
}
