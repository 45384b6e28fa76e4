package dev.distill.student;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

/**
 * Copies ND4J arrays into flat row-major {@code float[]}s in one bulk operation.
 * ({@code INDArray.toFloatMatrix()} builds a view per row, which costs milliseconds per minibatch.)
 */
public final class FlatArrays {
    private FlatArrays() {
    }

    /**
     * A row-major copy of {@code a} as a new float[] of {@code a.length()} values. A contiguous float array
     * is read straight from its buffer: no ND4J allocation, which matters in hot loops because every
     * off-heap allocation registers a deallocator under a lock shared by all threads of the JVM.
     */
    public static float[] of(INDArray a) {
        // Only an array that is its whole buffer: a view's offset is not always relative to data() (the weight
        // views of convolution layers read from the wrong place that way).
        if (a.dataType() == DataType.FLOAT && a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a)
                && a.offset() == 0 && a.data().length() == a.length()) {
            return a.data().getFloatsAt(0, (int) a.length());
        }
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }
}
