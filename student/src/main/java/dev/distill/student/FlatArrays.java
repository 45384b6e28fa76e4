package dev.distill.student;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies between ND4J arrays and flat row-major {@code float[]}s in one bulk operation.
 * ({@code INDArray.toFloatMatrix()} builds a view per row, which costs milliseconds per minibatch.)
 */
public final class FlatArrays {
    private FlatArrays() {
    }

    /** A row-major copy of {@code a} as one float[] of {@code a.length()} values. */
    public static float[] of(INDArray a) {
        INDArray c = a.castTo(DataType.FLOAT).dup('c');
        return c.data().asFloat();
    }
}
