package dev.distill.student.layers;

import dev.distill.student.NativeBackend;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.bytedeco.javacpp.FloatPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Field;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Batch normalisation of float NCHW feature maps in plain Java, as the helper of DL4J's own {@link
 * BatchNormalization} layer: the layer keeps its parameters, its running statistics, its activation and
 * everything that reads them (export, folding, QAT); only the arithmetic of the forward and backward pass
 * moves here. DL4J's oneDNN helper spent 41% of a MobileNet training step in {@code batchnorm} and {@code
 * batchnorm_bp} (ND4J's op profiler, 2 cores), more than every convolution together; DL4J's built-in path
 * without a helper was slower still.
 *
 * <p>Forward in training: per channel c over the M = N·H·W values, the mean μ and the population variance
 * σ² (two passes; float partial sums within a plane, added in double), kept for the layer to update its
 * running statistics; y = γ·(x − μ)/√(σ² + ε) + β, written over the copy of x. In inference μ and σ² are
 * the layer's running statistics. Backward, with x̂ = (x − μ)/√(σ² + ε) and g = dL/dy: dβ = Σ g, dγ = Σ g·x̂
 * (both in one pass), dL/dx = γ/√(σ² + ε) · (g − dβ/M − x̂·dγ/M), written over the copy of g (Ioffe &amp;
 * Szegedy 2015).
 * After a forward pass in inference mode (running statistics), backward treats μ and σ² as constants: dL/dx
 * = γ/√(σ² + ε)·g, dγ = Σ g·x̂, dβ = Σ g, and the caches hold the running statistics, so the layer's update
 * of them is zero. DL4J hands dense inputs over as [N, C, 1, 1] maps, so batch norm after a dense layer runs
 * here too. Doubles (the gradient checks) and NHWC maps return null, and the layer takes its own path for
 * both passes (the same test decides both).
 *
 * <p>Installed where DL4J's helpers are on ({@code org.eclipse.deeplearning4j.helpers.disable=false}, which
 * {@link NativeBackend#prepare()} sets unless the user set it): with them off, DL4J's own batch norm runs, as
 * every other layer's own code does.
 */
public final class BatchNormKernel implements BatchNormalizationHelper {
    private static final Logger LOG = LoggerFactory.getLogger(BatchNormKernel.class);
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final Field HELPER = helperField();

    private INDArray meanCache;
    private INDArray varCache;
    /** The statistics of the last forward pass (the batch's in training, the running ones in inference). */
    private float[] lastMean;
    private float[] lastVariance;
    private boolean lastTraining;

    /**
     * Makes every batch normalisation layer of {@code net} use this kernel; returns how many. Without the
     * field DL4J keeps its helper in (another DL4J version), the layers keep theirs and a warning says so
     * once: the results are the same, only slower.
     */
    public static int install(MultiLayerNetwork net) {
        if (Boolean.parseBoolean(System.getProperty(NativeBackend.HELPERS_DISABLE, "true"))) {
            return 0;
        }
        int installed = 0;
        for (Layer layer : net.getLayers()) {
            if (layer instanceof BatchNormalization bn && !bn.layerConf().isLockGammaBeta()) {
                if (HELPER == null) {
                    if (WARNED.compareAndSet(false, true)) {
                        LOG.warn("batch norm: this DL4J has no BatchNormalization.helper field; its own batch norm"
                                + " runs (the same results, slower)");
                    }
                    return 0;
                }
                try {
                    HELPER.set(bn, new BatchNormKernel());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("cannot set the batch norm helper of layer " + bn.getIndex(), e);
                }
                installed++;
            }
        }
        return installed;
    }

    private static Field helperField() {
        try {
            Field f = BatchNormalization.class.getDeclaredField("helper");
            f.setAccessible(true);
            return f;
        } catch (NoSuchFieldException | RuntimeException e) {
            return null;
        }
    }

    /** Whether this kernel computes a pass over {@code x}: float, rank 4, NCHW. */
    static boolean handles(INDArray x, CNN2DFormat format) {
        return x.dataType() == DataType.FLOAT && x.rank() == 4 && format == CNN2DFormat.NCHW;
    }

    @Override
    public boolean checkSupported(double eps, boolean fixedGammaBeta) {
        return !fixedGammaBeta;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta, INDArray mean,
                              INDArray var, double decay, double eps, CNN2DFormat format,
                              LayerWorkspaceMgr workspaceMgr) {
        if (!handles(x, format) || gamma == null || beta == null) {
            return null;
        }
        int n = (int) x.size(0);
        int channels = (int) x.size(1);
        int plane = (int) (x.size(2) * x.size(3));
        float[] in = floats(x);
        float[] mu;
        float[] variance;
        if (training) {
            mu = new float[channels];
            variance = new float[channels];
            statistics(in, n, channels, plane, mu, variance);
        } else {
            mu = floats(mean);
            variance = floats(var);
        }
        try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            meanCache = Nd4j.createFromArray(mu);
            varCache = Nd4j.createFromArray(variance);
        }
        lastMean = mu;
        lastVariance = variance;
        lastTraining = training;
        float[] g = floats(gamma);
        float[] b = floats(beta);
        for (int c = 0; c < channels; c++) {
            float scale = (float) (g[c] / Math.sqrt(variance[c] + eps));
            for (int i = 0; i < n; i++) {
                affine(in, (i * channels + c) * plane, plane, mu[c], scale, b[c]);
            }
        }
        return array(workspaceMgr, ArrayType.ACTIVATIONS, x.shape(), in);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape, INDArray gamma,
                                                     INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!handles(input, format) || gamma == null || beta == null) {
            return null;
        }
        if (lastMean == null) {
            throw new IllegalStateException("batch norm: backward pass before any forward pass");
        }
        int n = (int) input.size(0);
        int channels = (int) input.size(1);
        int plane = (int) (input.size(2) * input.size(3));
        float[] x = floats(input);
        float[] grad = floats(epsilon);
        float[] mu = lastMean;
        float[] variance = lastVariance;
        float[] g = floats(gamma);
        double count = (double) n * plane;
        float[] dGamma = new float[channels];
        float[] dBeta = new float[channels];
        double[] sums = new double[2];
        for (int c = 0; c < channels; c++) {
            double invStd = 1 / Math.sqrt(variance[c] + eps);
            double sumG = 0;
            double sumGxMu = 0;
            for (int i = 0; i < n; i++) {
                gradientSums(grad, x, (i * channels + c) * plane, plane, mu[c], sums);
                sumG += sums[0];
                sumGxMu += sums[1];
            }
            // Σ g·x̂ = Σ g·(x − μ) / σ
            double dg = sumGxMu * invStd;
            dGamma[c] = (float) dg;
            dBeta[c] = (float) sumG;
            // dL/dx = γ/σ · (g − Σg/M − x̂·dγ/M) = a·g + b·(x − μ) + d, with x̂ = (x − μ)/σ; with the running
            // statistics (inference), μ and σ are constants and dL/dx = γ/σ · g.
            double k = g[c] * invStd;
            float a = (float) k;
            float b = lastTraining ? (float) (-k * dg * invStd / count) : 0f;
            float d = lastTraining ? (float) (-k * sumG / count) : 0f;
            for (int i = 0; i < n; i++) {
                combine(grad, x, (i * channels + c) * plane, plane, a, b, mu[c], d);
            }
        }
        dGammaView.assign(Nd4j.createFromArray(dGamma).reshape(dGammaView.shape()));
        dBetaView.assign(Nd4j.createFromArray(dBeta).reshape(dBetaView.shape()));
        INDArray epsAtInput = array(workspaceMgr, ArrayType.ACTIVATION_GRAD, input.shape(), grad);
        Gradient gradient = new DefaultGradient();
        gradient.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
        gradient.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
        return new Pair<>(gradient, epsAtInput);
    }

    /** Per channel of an NCHW array, the mean and the population variance, two passes in double. */
    static void statistics(float[] x, int n, int channels, int plane, float[] mean, float[] variance) {
        double count = (double) n * plane;
        for (int c = 0; c < channels; c++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += sum(x, (i * channels + c) * plane, plane);
            }
            double m = s / count;
            double ss = 0;
            for (int i = 0; i < n; i++) {
                ss += squaredDeviations(x, (i * channels + c) * plane, plane, (float) m);
            }
            mean[c] = (float) m;
            variance[c] = (float) (ss / count);
        }
    }

    /**
     * Σ x[at ..< at + len]: eight float partial sums (independent chains the CPU overlaps), each over a few
     * dozen values of one plane, added in double. A plane's partial sums lose about as much as its own values
     * carry (float); the channel's total over the batch is kept in double by the caller.
     */
    private static double sum(float[] x, int at, int len) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = at;
        int end = at + len;
        for (; i + 8 <= end; i += 8) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
            s4 += x[i + 4];
            s5 += x[i + 5];
            s6 += x[i + 6];
            s7 += x[i + 7];
        }
        for (; i < end; i++) {
            s0 += x[i];
        }
        return ((double) s0 + s1) + ((double) s2 + s3) + (((double) s4 + s5) + ((double) s6 + s7));
    }

    /** Σ (x − m)² over [at, at + len), as {@link #sum}. */
    private static double squaredDeviations(float[] x, int at, int len, float m) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = at;
        int end = at + len;
        for (; i + 8 <= end; i += 8) {
            float d0 = x[i] - m, d1 = x[i + 1] - m, d2 = x[i + 2] - m, d3 = x[i + 3] - m;
            float d4 = x[i + 4] - m, d5 = x[i + 5] - m, d6 = x[i + 6] - m, d7 = x[i + 7] - m;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
            s4 += d4 * d4;
            s5 += d5 * d5;
            s6 += d6 * d6;
            s7 += d7 * d7;
        }
        for (; i < end; i++) {
            float d = x[i] - m;
            s0 += d * d;
        }
        return ((double) s0 + s1) + ((double) s2 + s3) + (((double) s4 + s5) + ((double) s6 + s7));
    }

    /**
     * Σ g and Σ g·(x − m) over [at, at + len) into {@code out[0]} and {@code out[1]}, in one pass, as {@link
     * #sum}. Centring x before the product keeps Σ g·x̂ free of the cancellation in Σ g·x − m·Σ g.
     */
    private static void gradientSums(float[] g, float[] x, int at, int len, float m, double[] out) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, p0 = 0, p1 = 0, p2 = 0, p3 = 0;
        int i = at;
        int end = at + len;
        for (; i + 4 <= end; i += 4) {
            float g0 = g[i], g1 = g[i + 1], g2 = g[i + 2], g3 = g[i + 3];
            s0 += g0;
            s1 += g1;
            s2 += g2;
            s3 += g3;
            p0 += g0 * (x[i] - m);
            p1 += g1 * (x[i + 1] - m);
            p2 += g2 * (x[i + 2] - m);
            p3 += g3 * (x[i + 3] - m);
        }
        for (; i < end; i++) {
            s0 += g[i];
            p0 += g[i] * (x[i] - m);
        }
        out[0] = ((double) s0 + s1) + ((double) s2 + s3);
        out[1] = ((double) p0 + p1) + ((double) p2 + p3);
    }

    /** {@code x[j] ← scale · (x[j] − mean) + shift} over [at, at + len). */
    private static void affine(float[] x, int at, int len, float mean, float scale, float shift) {
        for (int j = at; j < at + len; j++) {
            x[j] = scale * (x[j] - mean) + shift;
        }
    }

    /** {@code g[j] ← a · g[j] + b · (x[j] − mean) + d} over [at, at + len): dL/dy becomes dL/dx. */
    private static void combine(float[] g, float[] x, int at, int len, float a, float b, float mean, float d) {
        for (int j = at; j < at + len; j++) {
            g[j] = a * g[j] + b * (x[j] - mean) + d;
        }
    }

    /**
     * The values of float array {@code a} in C order, as a new array: one bulk copy out of native memory
     * (ND4J's {@code asFloat} reads value by value, which cost more than the arithmetic here).
     */
    static float[] floats(INDArray a) {
        INDArray c = a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a) && a.offset() == 0
                && a.data().length() == a.length() ? a : a.dup('c');
        float[] values = new float[Math.toIntExact(c.length())];
        new FloatPointer(c.data().addressPointer()).get(values, 0, values.length);
        return values;
    }

    /** A new C-order float array of {@code shape} in {@code type}'s workspace, holding {@code values}. */
    private static INDArray array(LayerWorkspaceMgr workspaceMgr, ArrayType type, long[] shape, float[] values) {
        INDArray a = workspaceMgr.createUninitialized(type, DataType.FLOAT, shape, 'c');
        new FloatPointer(a.data().addressPointer()).put(values, 0, values.length);
        return a;
    }

    @Override
    public INDArray getMeanCache(DataType dataType) {
        return meanCache;
    }

    @Override
    public INDArray getVarCache(DataType dataType) {
        return varCache;
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }
}
