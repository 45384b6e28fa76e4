package dev.distill.student.compress;

import dev.distill.student.FlatArrays;
import dev.distill.student.LayerSpec;
import dev.distill.student.NetworkSpec;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Low-rank dense layers: a layer {@code y = act(x·W + b)} with {@code W} of shape [in, out] becomes
 * {@code y = act((x·U)·V + b)} with U [in, r] and V [r, out], so {@code in·out} weights become
 * {@code r·(in + out)}.
 *
 * <p>Initialisation from a trained network ({@code kd.student.architecture.init-from}): its dense and
 * output layers are matched in order to this architecture's; a factorised layer starts from the
 * truncated SVD of the trained W ({@code U = U_r·√S_r}, {@code V = √S_r·V_rᵀ}, the best rank-r
 * approximation, Eckart–Young), and its rank may be given as the fraction of the energy Σ s² to keep; a
 * layer of the same shape starts from the trained weights. Training then fine-tunes from there.
 */
public final class LowRank {
    private LowRank() {
    }

    /** The trained [in, out] weights and biases of {@code source}'s dense and output layers, in order. */
    static List<float[][]> denseLayers(MultiLayerNetwork source) {
        List<float[][]> out = new ArrayList<>();
        for (int l = 0; l < source.getnLayers(); l++) {
            Layer layer = source.getLayer(l);
            if (layer instanceof org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer
                    || layer instanceof org.deeplearning4j.nn.layers.OutputLayer) {
                FeedForwardLayer ff = (FeedForwardLayer) layer.conf().getLayer();
                float[] w = FlatArrays.of(layer.getParam(DefaultParamInitializer.WEIGHT_KEY));
                float[] b = layer.paramTable().containsKey(DefaultParamInitializer.BIAS_KEY)
                        ? FlatArrays.of(layer.getParam(DefaultParamInitializer.BIAS_KEY)) : null;
                out.add(new float[][] {w, b, {ff.getNIn(), ff.getNOut()}});
            }
        }
        return out;
    }

    /**
     * {@code spec} with every energy-fraction rank replaced by the number of singular values of the matching
     * trained layer that keeps that fraction. {@code source} may be null when no rank is a fraction.
     */
    public static NetworkSpec resolve(NetworkSpec spec, MultiLayerNetwork source, String sourceName) {
        if (!spec.ranksUnresolved()) {
            return spec;
        }
        if (source == null) {
            throw new IllegalArgumentException("a rank given as a retained-energy fraction needs a trained network to"
                    + " take singular values from: set kd.student.architecture.init-from");
        }
        List<float[][]> trained = denseLayers(source);
        List<LayerSpec> layers = new ArrayList<>(spec.layers());
        int dense = 0;
        for (int i = 0; i < layers.size(); i++) {
            LayerSpec l = layers.get(i);
            if (!"dense".equals(l.type())) {
                continue;
            }
            if (l.rankByEnergy()) {
                float[][] t = match(trained, dense, l.units(), sourceName, spec.path(i));
                Svd svd = Svd.of(t[0], (int) t[2][0], (int) t[2][1]);
                layers.set(i, l.withRank(Math.min(svd.rankForEnergy(l.rank()), Math.max(1, l.units() - 1))));
            }
            dense++;
        }
        return spec.withLayers(layers);
    }

    /**
     * Sets {@code net}'s weights from {@code source}: truncated SVD factors for factorised layers, the weights
     * themselves for layers of the same shape. Layers of another shape keep their random initialisation.
     * Returns a line per layer saying what was done, for the log.
     */
    public static List<String> initialise(MultiLayerNetwork net, NetworkSpec spec, MultiLayerNetwork source,
                                          String sourceName) {
        List<float[][]> trained = denseLayers(source);
        List<String> done = new ArrayList<>();
        int dense = 0;
        List<LayerSpec> layers = spec.layers();
        for (int i = 0; i <= layers.size(); i++) {
            boolean output = i == layers.size();
            if (!output && !"dense".equals(layers.get(i).type())) {
                continue;
            }
            int[] at = spec.dl4jIndices(i);
            if (dense >= trained.size()) {
                break;
            }
            float[][] t = trained.get(dense++);
            int in = (int) t[2][0];
            int out = (int) t[2][1];
            INDArray target = net.getLayer(at[at.length - 1]).getParam(DefaultParamInitializer.WEIGHT_KEY);
            long targetIn = net.getLayer(at[0]).getParam(DefaultParamInitializer.WEIGHT_KEY).size(0);
            if (targetIn != in || target.size(1) != out) {
                done.add(spec.path(i) + ": " + sourceName + " has [" + in + ", " + out + "] weights here, this layer ["
                        + targetIn + ", " + target.size(1) + "]: random initialisation");
                continue;
            }
            if (at.length == 2) {
                int r = (int) layers.get(i).rank();
                Svd svd = Svd.of(t[0], in, out);
                float[][] f = svd.factors(r);
                set(net.getLayer(at[0]).getParam(DefaultParamInitializer.WEIGHT_KEY), f[0]);
                set(target, f[1]);
                double kept = 0;
                double total = 0;
                for (int c = 0; c < svd.k(); c++) {
                    total += svd.s()[c] * svd.s()[c];
                    kept += c < r ? svd.s()[c] * svd.s()[c] : 0;
                }
                done.add(String.format("%s: rank %d of [%d, %d] from the SVD of %s (%.1f%% of the energy)", spec.path(i), r,
                        in, out, sourceName, 100 * kept / total));
            } else {
                set(target, t[0]);
                done.add(spec.path(i) + ": weights of " + sourceName);
            }
            if (t[1] != null) {
                set(net.getLayer(at[at.length - 1]).getParam(DefaultParamInitializer.BIAS_KEY), t[1]);
            }
        }
        return done;
    }

    private static float[][] match(List<float[][]> trained, int dense, int units, String sourceName, String layer) {
        if (dense >= trained.size() || (int) trained.get(dense)[2][1] != units) {
            throw new IllegalArgumentException(sourceName + " has no dense layer of " + units + " units in position "
                    + (dense + 1) + " to take the SVD of for kd.student.architecture." + layer);
        }
        return trained.get(dense);
    }

    private static void set(INDArray param, float[] values) {
        param.assign(Nd4j.create(values, param.shape(), 'c'));
    }
}
