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
 * σ² (two passes, in double), kept for the layer to update its running statistics; y = γ·(x − μ)/√(σ² + ε)
 * + β. In inference μ and σ² are the layer's running statistics. Backward, with x̂ = (x − μ)/√(σ² + ε) and
 * g = dL/dy: dβ = Σ g, dγ = Σ g·x̂, dL/dx = γ/√(σ² + ε) · (g − dβ/M − x̂·dγ/M) (Ioffe &amp; Szegedy 2015).
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
        float[] out = new float[in.length];
        for (int c = 0; c < channels; c++) {
            float scale = (float) (g[c] / Math.sqrt(variance[c] + eps));
            for (int i = 0; i < n; i++) {
                affine(in, out, (i * channels + c) * plane, plane, mu[c], scale, b[c]);
            }
        }
        return array(workspaceMgr, ArrayType.ACTIVATIONS, x.shape(), out);
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
        float[] dx = new float[x.length];
        for (int c = 0; c < channels; c++) {
            double invStd = 1 / Math.sqrt(variance[c] + eps);
            double sumG = 0;
            double sumGx = 0;
            for (int i = 0; i < n; i++) {
                int at = (i * channels + c) * plane;
                sumG += sum(grad, at, plane);
                sumGx += dot(grad, x, at, plane);
            }
            // Σ g·x̂ = (Σ g·x − μ·Σ g) / σ
            double dg = (sumGx - mu[c] * sumG) * invStd;
            dGamma[c] = (float) dg;
            dBeta[c] = (float) sumG;
            // dL/dx = γ/σ · (g − Σg/M − x̂·dγ/M) = a·g + b·(x − μ) + d, with x̂ = (x − μ)/σ; with the running
            // statistics (inference), μ and σ are constants and dL/dx = γ/σ · g.
            double k = g[c] * invStd;
            float a = (float) k;
            float b = lastTraining ? (float) (-k * dg * invStd / count) : 0f;
            float d = lastTraining ? (float) (-k * sumG / count) : 0f;
            for (int i = 0; i < n; i++) {
                combine(grad, x, dx, (i * channels + c) * plane, plane, a, b, mu[c], d);
            }
        }
        dGammaView.assign(Nd4j.createFromArray(dGamma).reshape(dGammaView.shape()));
        dBetaView.assign(Nd4j.createFromArray(dBeta).reshape(dBetaView.shape()));
        INDArray epsAtInput = array(workspaceMgr, ArrayType.ACTIVATION_GRAD, input.shape(), dx);
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
                ss += squaredDeviations(x, (i * channels + c) * plane, plane, m);
            }
            mean[c] = (float) m;
            variance[c] = (float) (ss / count);
        }
    }

    /** Σ x[at ..< at + len], four partial sums (so the additions overlap). */
    private static double sum(float[] x, int at, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = at;
        int end = at + len;
        for (; i + 4 <= end; i += 4) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
        }
        for (; i < end; i++) {
            s0 += x[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static double squaredDeviations(float[] x, int at, int len, double m) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = at;
        int end = at + len;
        for (; i + 4 <= end; i += 4) {
            double d0 = x[i] - m, d1 = x[i + 1] - m, d2 = x[i + 2] - m, d3 = x[i + 3] - m;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; i < end; i++) {
            double d = x[i] - m;
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static double dot(float[] a, float[] b, int at, int len) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = at;
        int end = at + len;
        for (; i + 4 <= end; i += 4) {
            s0 += a[i] * (double) b[i];
            s1 += a[i + 1] * (double) b[i + 1];
            s2 += a[i + 2] * (double) b[i + 2];
            s3 += a[i + 3] * (double) b[i + 3];
        }
        for (; i < end; i++) {
            s0 += a[i] * (double) b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** {@code out[j] = scale · (in[j] − mean) + shift} over [at, at + len). */
    private static void affine(float[] in, float[] out, int at, int len, float mean, float scale, float shift) {
        for (int j = at; j < at + len; j++) {
            out[j] = scale * (in[j] - mean) + shift;
        }
    }

    /** {@code dx[j] = a · g[j] + b · (x[j] − mean) + d} over [at, at + len). */
    private static void combine(float[] g, float[] x, float[] dx, int at, int len, float a, float b, float mean,
                                float d) {
        for (int j = at; j < at + len; j++) {
            dx[j] = a * g[j] + b * (x[j] - mean) + d;
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
