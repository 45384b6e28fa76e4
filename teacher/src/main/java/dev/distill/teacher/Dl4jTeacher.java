package dev.distill.teacher;

import dev.distill.student.layers.BatchNormKernel;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A DL4J {@link MultiLayerNetwork} as a teacher. Networks trained by this project end in an identity
 * output layer, so their outputs are logits. A network from elsewhere that ends in softmax yields
 * probabilities p; its logits are taken as log p, which differ from the true logits only by a per-row
 * constant and so give the same softmax at every temperature.
 */
public final class Dl4jTeacher implements Teacher {
    private final MultiLayerNetwork net;
    private final boolean softmaxOutput;
    private final int featureLength;
    private final int numClasses;

    public Dl4jTeacher(MultiLayerNetwork net, int featureLength) {
        this.net = net;
        Layer last = net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer();
        this.softmaxOutput = last instanceof BaseOutputLayer out && out.getActivationFn() instanceof ActivationSoftmax;
        this.numClasses = (int) ((FeedForwardLayer) last).getNOut();
        this.featureLength = featureLength;
    }

    /** Loads a model zip written by {@link ModelSerializer} (any DL4J MultiLayerNetwork). */
    public static MultiLayerNetwork load(InputStream zip, String name) {
        try {
            MultiLayerNetwork net = ModelSerializer.restoreMultiLayerNetwork(zip, false);
            BatchNormKernel.install(net);
            return net;
        } catch (IOException | RuntimeException e) {
            String message = name + ": not a readable DL4J model zip (" + e.getMessage() + "); a damaged or"
                    + " replaced file: write it again (`distill train-teacher`, `train-student`) or name an intact one"
                    + " (a file written by DL4J's ModelSerializer)";
            throw new UncheckedIOException(message, new IOException(message, e));
        }
    }

    public static MultiLayerNetwork load(File zip) {
        try (InputStream in = new java.io.BufferedInputStream(new java.io.FileInputStream(zip))) {
            return load(in, zip.getPath());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read teacher model " + zip + ": " + e.getMessage(), e);
        }
    }

    public MultiLayerNetwork network() {
        return net;
    }

    /** The input batch, reused while the row count stays the same (one teacher serves one thread at a time). */
    private INDArray input;

    /**
     * Logits of {@code rows} rows. The input array is allocated once per row count and refilled: an off-heap
     * allocation per call (800 KB for 256 Fashion-MNIST rows) makes JavaCPP's memory accounting call the
     * garbage collector again and again on a small heap, which slowed inference on a 1 GB driver ten-fold.
     */
    @Override
    public float[] logits(float[] features, int rows) {
        if (input == null || input.size(0) != rows) {
            input = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, rows, featureLength);
        }
        input.data().setData(features.length == rows * featureLength ? features
                : java.util.Arrays.copyOf(features, rows * featureLength));
        INDArray out = net.output(input, false);
        if (softmaxOutput) {
            out = org.nd4j.linalg.ops.transforms.Transforms.log(org.nd4j.linalg.ops.transforms.Transforms.max(out, 1e-30), false);
        }
        return dev.distill.student.FlatArrays.of(out);
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int featureLength() {
        return featureLength;
    }

    @Override
    public long parameters() {
        return net.numParams();
    }
}
