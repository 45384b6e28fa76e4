package dev.distill.student.layers;

import dev.distill.student.Fixtures;
import dev.distill.student.LayerSpec;
import dev.distill.student.NativeBackend;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import dev.distill.student.loss.DistillationLosses;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The ReLU whose backward pass is step(z)·g, against numbers by hand and against DL4J's own ReLU. */
class TestRelu {
    @BeforeAll
    static void helpersOn() {
        NativeBackend.prepare();
    }

    /** z = (−2, 0, 0.5, 3), g = (1, 2, 3, 4): dL/dz = (0, 0, 3, 4); the derivative at 0 is 0. */
    @Test
    void backwardAsDerivedByHand() {
        INDArray z = Nd4j.createFromArray(-2f, 0f, 0.5f, 3f);
        INDArray g = Nd4j.createFromArray(1f, 2f, 3f, 4f);
        INDArray dz = new Relu().backprop(z, g).getFirst();
        assertThat(dz.toFloatVector()).containsExactly(0f, 0f, 3f, 4f);
        assertThat(g.toFloatVector()).as("the incoming gradient is left as it was").containsExactly(1f, 2f, 3f, 4f);
        assertThat(new Relu().getActivation(Nd4j.createFromArray(-2f, 0f, 0.5f, 3f), true).toFloatVector())
                .containsExactly(0f, 0f, 0.5f, 3f);
    }

    @Test
    void forwardAndBackwardEqualDl4jsReluOnRandomMaps() {
        Random r = new Random(3);
        float[] z = new float[4 * 3 * 5 * 5];
        float[] g = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            z[i] = i % 7 == 0 ? 0f : (float) r.nextGaussian();
            g[i] = (float) r.nextGaussian();
        }
        long[] shape = {4, 3, 5, 5};
        INDArray ours = new Relu().backprop(Nd4j.create(z, shape, 'c'), Nd4j.create(g, shape, 'c')).getFirst();
        INDArray dl4j = new ActivationReLU().backprop(Nd4j.create(z, shape, 'c'), Nd4j.create(g, shape, 'c')).getFirst();
        assertThat(ours.shape()).containsExactly(shape);
        assertThat(plusZero(ours.ravel().toFloatVector())).as("equal, with -0 (a negative g times 0) read as 0")
                .containsExactly(dl4j.ravel().toFloatVector());
        assertThat(new Relu().getActivation(Nd4j.create(z, shape, 'c'), true).ravel().toFloatVector())
                .containsExactly(new ActivationReLU().getActivation(Nd4j.create(z, shape, 'c'), true).ravel().toFloatVector());
    }

    /**
     * Networks built from a job use it for every ReLU (layers' own and batch norms' activation layers), keep it
     * through their JSON, and compute exactly the gradients DL4J's ReLU gives.
     */
    @Test
    void networksUseItAndTrainAsWithDl4jsRelu() {
        NetworkSpec spec = new NetworkSpec(new int[] {2, 8, 8}, 3, List.of(
                LayerSpec.conv(4, 3).withActivation("relu"),
                LayerSpec.depthwise(3).withActivation("identity"),
                LayerSpec.batchNorm().withActivation("relu"),
                LayerSpec.globalPool(),
                LayerSpec.dense(5).withActivation("relu")));
        TrainingSettings sgd = new TrainingSettings(1, 16, 1, 1, "sgd", 0.1, 0.9, "constant", 1, 1, 0, 1);
        MultiLayerNetwork ours = spec.newNetwork(DistillationLosses.hardLabels(), sgd, 3);
        assertThat(reluClasses(ours.getLayerWiseConfigurations())).containsExactly(Relu.class, Relu.class, Relu.class);
        assertThat(reluClasses(MultiLayerConfiguration.fromJson(ours.getLayerWiseConfigurations().toJson())))
                .as("after a JSON round trip").containsExactly(Relu.class, Relu.class, Relu.class);

        MultiLayerNetwork dl4j = spec.newNetwork(DistillationLosses.hardLabels(), sgd, 3);
        for (Layer layer : dl4j.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer b && b.getActivationFn() instanceof Relu) {
                b.setActivationFn(new ActivationReLU());
            } else if (layer.conf().getLayer() instanceof ActivationLayer a && a.getActivationFn() instanceof Relu) {
                a.setActivationFn(new ActivationReLU());
            }
        }
        assertThat(reluClasses(dl4j.getLayerWiseConfigurations()))
                .containsExactly(ActivationReLU.class, ActivationReLU.class, ActivationReLU.class);
        dl4j.setParams(ours.params().dup());
        Random r = new Random(5);
        float[][] x = new float[16][128];
        int[] y = new int[16];
        for (int i = 0; i < x.length; i++) {
            y[i] = r.nextInt(3);
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] = (float) r.nextGaussian();
            }
        }
        DataSet data = Fixtures.hardLabels(x, y, 3);
        for (MultiLayerNetwork net : List.of(ours, dl4j)) {
            net.setInput(data.getFeatures());
            net.setLabels(data.getLabels());
            net.computeGradientAndScore();
        }
        INDArray ga = ours.gradient().gradient();
        INDArray gb = dl4j.gradient().gradient();
        assertThat(gb.castTo(DataType.DOUBLE).norm2Number().doubleValue()).isGreaterThan(1e-3);
        assertThat(plusZero(ga.toFloatVector())).containsExactly(plusZero(gb.toFloatVector()));
    }

    /** The values with −0 as +0 (−0 + 0 = +0), which compare equal in arithmetic but not in assertions. */
    private static float[] plusZero(float[] values) {
        for (int i = 0; i < values.length; i++) {
            values[i] += 0f;
        }
        return values;
    }

    private static List<Class<?>> reluClasses(MultiLayerConfiguration conf) {
        List<Class<?>> found = new ArrayList<>();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            IActivation fn = conf.getConf(i).getLayer() instanceof BaseLayer b ? b.getActivationFn()
                    : conf.getConf(i).getLayer() instanceof ActivationLayer a ? a.getActivationFn() : null;
            if (fn instanceof ActivationReLU) {
                found.add(fn.getClass());
            }
        }
        return found;
    }
}
