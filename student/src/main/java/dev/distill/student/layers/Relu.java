package dev.distill.student.layers;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ReLU, {@code max(0, z)}, whose backward pass is two plain element-wise ops: {@code dL/dz = dL/da · step(z)},
 * with step(z) = 1 where z &gt; 0 and 0 elsewhere (so the derivative at 0 is 0, as DL4J's; a negative g
 * there gives −0, which is 0 in every sum that follows). DL4J's own ReLU runs ND4J's {@code relu_bp} into a
 * new array, which took 18% of a MobileNet student's training op time (its nine batch norms' activations), as
 * much as every depthwise convolution together. The forward pass is DL4J's.
 *
 * <p>A subclass of {@link ActivationReLU}, so everything that asks whether a layer's activation is ReLU (the
 * int8 and ONNX export, QAT) still sees one; the saved network's configuration names this class. One
 * difference at non-finite gradients: where z ≤ 0 and dL/da is NaN or infinite, the product is NaN where
 * DL4J's gives 0 — a run with such gradients has already diverged.
 */
public class Relu extends ActivationReLU {

    public Relu() {
    }

    /**
     * dL/dz, written over {@code in} (as DL4J's tanh and sigmoid write theirs): {@code epsilon} stays as it
     * was, so the layer need not copy it.
     */
    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        Nd4j.exec(new Step(in, in, 0.0));
        return new Pair<>(in.muli(epsilon), null);
    }

    @Override
    public String toString() {
        return "relu";
    }
}
