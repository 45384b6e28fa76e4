package dev.distill.runtime;

/**
 * Working arrays one thread reuses from one call of {@link Int8Model#logits} to the next, so that a call
 * allocates next to nothing: each (layer, use) pair has a slot of its own, holding an array of the length
 * that layer asks for. Fresh arrays (a heap of untouched pages, each call faulting new ones in) made batch-1
 * calls measured one by one twice as slow as the same calls in a batch.
 *
 * <p>Contents are whatever the slot's last call left: a user writes every cell it later reads, or relies on
 * writing the same cells with every call (the zero border of a padded plane stays zero because no call
 * writes it). A slot serves one layer only, so the set of cells written never changes.
 */
final class Scratch {
    /** Uses per layer: the slot of (layer, use) is layer · USES + use. */
    static final int USES = 8;
    static final int CENTRED = 0;
    static final int PATCH_ROWS = 1;
    static final int PADDED = 2;
    static final int SUMS = 3;
    static final int ACCUMULATORS = 4;
    static final int FACTORS = 5;
    static final int REALS = 6;
    static final int CODES = 7;

    private final Object[] slots;

    Scratch(int layers) {
        slots = new Object[layers * USES];
    }

    /** The int array of {@code length} in slot (layer, use). */
    int[] ints(int layer, int use, int length) {
        int slot = layer * USES + use;
        if (slots[slot] instanceof int[] a && a.length == length) {
            return a;
        }
        int[] a = new int[length];
        slots[slot] = a;
        return a;
    }

    /** The float array of {@code length} in slot (layer, use). */
    float[] floats(int layer, int use, int length) {
        int slot = layer * USES + use;
        if (slots[slot] instanceof float[] a && a.length == length) {
            return a;
        }
        float[] a = new float[length];
        slots[slot] = a;
        return a;
    }

    /** {@code count} int arrays of {@code length} each in slot (layer, use). */
    int[][] rows(int layer, int use, int count, int length) {
        int slot = layer * USES + use;
        if (slots[slot] instanceof int[][] a && a.length == count && (count == 0 || a[0].length == length)) {
            return a;
        }
        int[][] a = new int[count][length];
        slots[slot] = a;
        return a;
    }
}
