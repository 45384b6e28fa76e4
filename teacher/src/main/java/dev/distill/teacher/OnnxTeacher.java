package dev.distill.teacher;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * An ONNX model (exported from PyTorch, TensorFlow/Keras, scikit-learn, …) as a teacher, run by ONNX
 * Runtime. Flat feature rows are fed as a tensor of shape {@code [rows, inputShape...]} (for example
 * {@code [rows, 1, 28, 28]} for an NCHW image model; {@code [rows, features]} when no shape is given). The
 * output is taken as logits, or as probabilities whose logarithms serve as logits (log p differs from the
 * true logits only by a per-row constant, so it gives the same softmax at every temperature).
 * One session per instance; not thread-safe (the labelling job keeps one per task slot).
 */
public final class OnnxTeacher implements Teacher, AutoCloseable {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String input;
    private final String output;
    private final long[] inputShape;
    private final boolean probabilities;
    private final int featureLength;
    private final int numClasses;
    private final long parameters;

    /** How the data set's rows map onto the model. */
    public record Options(String input, String output, int[] inputShape, boolean probabilities)
            implements java.io.Serializable {
    }

    /**
     * Opens {@code model} (the bytes of an .onnx file, named {@code name} in messages) with {@code threads}
     * intra-op threads, and checks its declared input and output against the data set: {@code featureLength}
     * features per row and {@code numClasses} classes.
     */
    public OnnxTeacher(byte[] model, String name, Options options, int featureLength, int numClasses, int threads) {
        this.env = OrtEnvironment.getEnvironment();
        OrtSession s;
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(Math.max(1, threads));
            o.setInterOpNumThreads(1);
            s = env.createSession(model, o);
        } catch (OrtException e) {
            throw new IllegalArgumentException(name + ": not a model ONNX Runtime can load (" + firstLine(e) + ")", e);
        }
        this.session = s;
        try {
            this.input = pick(name, "input", session.getInputInfo(), options.input());
            this.output = pick(name, "output", session.getOutputInfo(), options.output());
            long[] declaredIn = ((TensorInfo) session.getInputInfo().get(input).getInfo()).getShape();
            long[] declaredOut = ((TensorInfo) session.getOutputInfo().get(output).getInfo()).getShape();
            int[] shape = options.inputShape() == null || options.inputShape().length == 0
                    ? new int[] {featureLength} : options.inputShape();
            this.inputShape = new long[shape.length + 1];
            this.inputShape[0] = -1;
            long product = 1;
            for (int d = 0; d < shape.length; d++) {
                inputShape[d + 1] = shape[d];
                product *= shape[d];
            }
            if (product != featureLength) {
                throw new IllegalArgumentException(name + ": kd.teacher.onnx.input-shape " + Arrays.toString(shape)
                        + " holds " + product + " values but the data set has " + featureLength + " features per row");
            }
            if (!fits(declaredIn, inputShape)) {
                throw new IllegalArgumentException(name + ": input '" + input + "' is declared " + render(declaredIn)
                        + " but the data set provides " + render(inputShape) + " (" + featureLength
                        + " features per row" + (options.inputShape() == null || options.inputShape().length == 0
                        ? "; set kd.teacher.onnx.input-shape, e.g. [1, 28, 28] for an NCHW image model)" : ")"));
            }
            if (declaredOut.length != 2 || (declaredOut[1] >= 0 && declaredOut[1] != numClasses)) {
                throw new IllegalArgumentException(name + ": output '" + output + "' is declared " + render(declaredOut)
                        + " but the data set has " + numClasses + " classes (kd.dataset.num-classes); expected [batch, "
                        + numClasses + "]");
            }
        } catch (OrtException e) {
            close();
            throw new IllegalArgumentException(name + ": cannot read its inputs and outputs (" + firstLine(e) + ")", e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.probabilities = options.probabilities();
        this.featureLength = featureLength;
        this.numClasses = numClasses;
        this.parameters = countParameters(model);
    }

    /** Elements of the graph's initialisers (its weights), read from the ONNX protobuf; -1 if unreadable. */
    static long countParameters(byte[] model) {
        try {
            long n = 0;
            for (onnx.Onnx.TensorProto t : onnx.Onnx.ModelProto.parseFrom(model).getGraph().getInitializerList()) {
                long e = 1;
                for (long d : t.getDimsList()) {
                    e *= d;
                }
                n += e;
            }
            return n;
        } catch (org.nd4j.shade.protobuf.InvalidProtocolBufferException e) {
            return -1;
        }
    }

    private static String pick(String name, String what, Map<String, NodeInfo> nodes, String wanted) {
        if (wanted != null && !wanted.isBlank()) {
            if (!nodes.containsKey(wanted)) {
                throw new IllegalArgumentException(name + ": has no " + what + " named '" + wanted + "'; its " + what
                        + "s: " + String.join(", ", nodes.keySet()));
            }
            return wanted;
        }
        if (nodes.size() != 1) {
            throw new IllegalArgumentException(name + ": has " + nodes.size() + " " + what + "s (" + String.join(", ",
                    nodes.keySet()) + "); set kd.teacher.onnx." + what + " to the one to use");
        }
        return nodes.keySet().iterator().next();
    }

    /** Declared dimensions of -1 (or symbolic) match anything; the batch dimension is always free. */
    private static boolean fits(long[] declared, long[] provided) {
        if (declared.length != provided.length) {
            return false;
        }
        for (int d = 1; d < declared.length; d++) {
            if (declared[d] >= 0 && declared[d] != provided[d]) {
                return false;
            }
        }
        return true;
    }

    private static String render(long[] shape) {
        StringBuilder b = new StringBuilder("[");
        for (int d = 0; d < shape.length; d++) {
            b.append(d == 0 ? "" : ", ").append(shape[d] < 0 ? (d == 0 ? "batch" : "?") : Long.toString(shape[d]));
        }
        return b.append(']').toString();
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /**
     * The input batch in native memory, reused across calls. ONNX Runtime copies a heap buffer into a fresh
     * direct one on every call; for a batch of 256 images that is an 800 KB allocation, zeroing and later
     * unmapping per call, and the unmapping stalls every other thread of the JVM: two single-threaded
     * sessions on two threads measured barely faster than one until the buffer was reused.
     */
    private FloatBuffer batch;

    @Override
    public float[] logits(float[] features, int rows) {
        long[] shape = inputShape.clone();
        shape[0] = rows;
        int n = rows * featureLength;
        if (batch == null || batch.capacity() < n) {
            batch = java.nio.ByteBuffer.allocateDirect(4 * n).order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
        }
        batch.clear();
        batch.put(features, 0, n).flip();
        try (OnnxTensor in = OnnxTensor.createTensor(env, batch, shape);
             OrtSession.Result r = session.run(Map.of(input, in), java.util.Set.of(output))) {
            OnnxValue v = r.get(output).orElseThrow();
            FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
            float[] out = new float[rows * numClasses];
            fb.get(out);
            if (probabilities) {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) Math.log(Math.max(out[i], 1e-30f));
                }
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a batch of " + rows + " rows: " + firstLine(e), e);
        }
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public int featureLength() {
        return featureLength;
    }

    /** Elements of the model's initialisers (-1 when the file could not be parsed for them). */
    @Override
    public long parameters() {
        return parameters;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException ignored) {
            // closing a session that failed to initialise
        }
    }
}
