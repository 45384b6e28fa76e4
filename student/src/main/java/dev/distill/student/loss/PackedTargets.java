package dev.distill.student.loss;

/**
 * The target row every distillation loss reads, one per example, of width {@code 2C + 1} for C classes:
 * {@code [t_1..t_C, onehot_1..onehot_C, hasLabel]}: the teacher's logits (zeros when there are none), the
 * one-hot hard label (zeros when the row has none) and a flag that is 1 when it has one. One layout serves
 * distillation, hard-label training (the teacher's part unused) and unlabeled transfer rows (flag 0).
 */
public final class PackedTargets {
    private PackedTargets() {
    }

    /** Width of a packed row for {@code numClasses} classes. */
    public static int width(int numClasses) {
        return 2 * numClasses + 1;
    }

    /** True when the packed row starting at {@code offset} carries a hard label (its flag is set). */
    public static boolean hasLabel(float[] packed, int offset, int numClasses) {
        return packed[offset + 2 * numClasses] > 0.5f;
    }

    /**
     * Packs one row's targets into {@code dst} at {@code offset}: teacher logits (zeros when null), the
     * one-hot hard label (zeros when null) and the has-label flag.
     */
    public static void pack(float[] teacherLogits, Integer label, int numClasses, float[] dst, int offset) {
        if (teacherLogits != null) {
            System.arraycopy(teacherLogits, 0, dst, offset, numClasses);
        } else {
            java.util.Arrays.fill(dst, offset, offset + numClasses, 0f);
        }
        java.util.Arrays.fill(dst, offset + numClasses, offset + 2 * numClasses + 1, 0f);
        if (label != null) {
            dst[offset + numClasses + label] = 1f;
            dst[offset + 2 * numClasses] = 1f;
        }
    }
}
