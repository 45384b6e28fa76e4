package dev.distill.runtime;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The deployable model file, version 1 (dense layers only), 2 (also convolution and max pooling), 3 (also
 * depthwise convolution and average pooling) or 4 (also residual blocks). All numbers big-endian.
 * <pre>
 *   header   "KDI8" (4 bytes) | version u8 = 1, 2, 3 or 4 | 3 reserved bytes (0)
 *            | payload length u32 (uncompressed) | CRC32 of the uncompressed payload u32
 *   body     the payload, compressed with java.util.zip.Deflater (zlib format)
 *
 *   payload  input length i32 | input scale f32 | input zero point i32 | layer count i32
 *            then per layer:
 *            kind u8 (1 = dense) | activation u8 (0 identity, 1 relu) | in i32 | out i32
 *            | weight encoding u8 (0 dense: out·in int8 values, row-major;
 *                                  1 sparse: nnz i32, then nnz × (index i32 ascending, value int8))
 *            | weight scales f32 × out | bias i32 × out
 *            | output scale f32 | output zero point i32        (every layer but the last)
 *            version 2 adds, after the kind byte:
 *            kind 2 (convolution): activation u8 | channels, height, width, filters, kernel h, kernel w,
 *                   stride h, stride w, pad top, pad left, out height, out width (i32 each)
 *                   | weight encoding and weights as above (filters·channels·kernel h·kernel w values,
 *                   [filter][channel][ky][kx]) | weight scales f32 × filters | bias i32 × filters
 *                   | output scale f32 | output zero point i32
 *            kind 3 (max pooling): channels, height, width, kernel h, kernel w, stride h, stride w,
 *                   pad top, pad left, out height, out width (i32 each)
 *            version 3 adds:
 *            kind 4 (depthwise convolution): activation u8 | channels, height, width, kernel h, kernel w,
 *                   stride h, stride w, pad top, pad left, out height, out width (i32 each)
 *                   | weight encoding and weights (channels·kernel h·kernel w values, [channel][ky][kx])
 *                   | weight scales f32 × channels | bias i32 × channels | output scale f32 | output zero point i32
 *            kind 5 (average pooling, every window inside the input): channels, height, width, kernel h,
 *                   kernel w, stride h, stride w, out height, out width (i32 each)
 *            version 4 adds:
 *            kind 6 (residual add: this layer's input plus the input of layer "start", then the activation):
 *                   activation u8 | size i32 | start i32 (0 ≤ start ≤ this layer's index) | output scale f32
 *                   | output zero point i32
 * </pre>
 * Reading trusts nothing: every count is checked against hard limits and against the bytes that remain
 * before anything is allocated, the payload must inflate to exactly its declared length, the CRC must
 * match, and any violation is a {@link ModelFileException} saying what and where. No Java serialisation.
 */
public final class ModelFile {
    static final byte[] MAGIC = {'K', 'D', 'I', '8'};
    static final int VERSION = 4;
    static final int HEADER_BYTES = 16;
    /** Largest payload accepted: 256 MiB. */
    static final int MAX_PAYLOAD = 256 << 20;
    /** Widest layer accepted; keeps every int32 accumulator exact (127 · 255 · 32768 < 2^31). */
    static final int MAX_WIDTH = 32_768;
    static final int MAX_LAYERS = 256;
    /** Largest kernel side and stride of a window layer. */
    static final int MAX_KERNEL = 64;
    /** |bias| bound, so that bias + accumulator stays inside int32. */
    static final int MAX_BIAS = 1 << 30;

    private ModelFile() {
    }

    public static Int8Model read(Path file) throws ModelFileException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (ModelFileException e) {
            throw e;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ModelFileException(file + ": no such file", e);
        } catch (IOException e) {
            throw new ModelFileException(file + ": cannot read (" + (java.nio.file.Files.isDirectory(file)
                    ? "a folder, not a model file" : e.getMessage()) + ")", e);
        }
    }

    /** Reads a model; {@code name} is used in messages. At most header + {@link #MAX_PAYLOAD}-bound bytes are read. */
    public static Int8Model read(InputStream in, String name) throws ModelFileException {
        byte[] header;
        try {
            header = in.readNBytes(HEADER_BYTES);
        } catch (IOException e) {
            throw new ModelFileException(name + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (header.length < HEADER_BYTES) {
            throw new ModelFileException(name + ": truncated: " + header.length + " bytes, shorter than the "
                    + HEADER_BYTES + "-byte header");
        }
        for (int i = 0; i < 4; i++) {
            if (header[i] != MAGIC[i]) {
                throw new ModelFileException(name + ": not a distill int8 model (no KDI8 magic)");
            }
        }
        ByteBuffer h = ByteBuffer.wrap(header);
        int version = h.get(4) & 0xff;
        if (version < 1 || version > VERSION) {
            throw new ModelFileException(name + ": model file version " + version + " is not supported; this runtime"
                    + " reads versions 1 to " + VERSION);
        }
        long length = h.getInt(8) & 0xffffffffL;
        long crc = h.getInt(12) & 0xffffffffL;
        if (length > MAX_PAYLOAD) {
            throw new ModelFileException(name + ": declares a payload of " + length + " bytes; at most "
                    + MAX_PAYLOAD + " are accepted");
        }
        byte[] payload = inflate(in, (int) length, name);
        CRC32 check = new CRC32();
        check.update(payload);
        if (check.getValue() != crc) {
            throw new ModelFileException(name + ": checksum mismatch (CRC32 " + Long.toHexString(check.getValue())
                    + ", header says " + Long.toHexString(crc) + "): the file is damaged");
        }
        try {
            return parse(ByteBuffer.wrap(payload), version, name);
        } catch (BufferUnderflowException e) {
            throw new ModelFileException(name + ": payload ends early", e);
        }
    }

    /**
     * Inflates exactly {@code length} bytes. Every pass of the loop consumes input, produces output or
     * ends, so damaged data cannot make it spin; output beyond {@code length} is refused, not buffered.
     */
    private static byte[] inflate(InputStream in, int length, String name) throws ModelFileException {
        Inflater inflater = new Inflater();
        byte[] out = new byte[length];
        byte[] buf = new byte[1 << 16];
        byte[] probe = new byte[1];
        int produced = 0;
        boolean finished;
        try {
            while (!inflater.finished()) {
                if (inflater.needsInput()) {
                    int n = in.read(buf);
                    if (n < 0) {
                        break;
                    }
                    inflater.setInput(buf, 0, n);
                    continue;
                }
                if (inflater.needsDictionary()) {
                    throw new ModelFileException(name + ": compressed payload needs a preset dictionary");
                }
                int n = produced < length ? inflater.inflate(out, produced, length - produced) : inflater.inflate(probe);
                if (produced == length && n > 0) {
                    throw new ModelFileException(name + ": payload is longer than the " + length
                            + " bytes the header declares");
                }
                produced += produced < length ? n : 0;
            }
            finished = inflater.finished();
        } catch (DataFormatException e) {
            throw new ModelFileException(name + ": compressed payload is corrupt (" + e.getMessage() + ")", e);
        } catch (ModelFileException e) {
            throw e;
        } catch (IOException e) {
            throw new ModelFileException(name + ": cannot read (" + e.getMessage() + ")", e);
        } finally {
            inflater.end();
        }
        if (!finished || produced != length) {
            throw new ModelFileException(name + ": truncated: the payload inflates to " + produced + " of the "
                    + length + " bytes the header declares");
        }
        return out;
    }

    private static int count(ByteBuffer b, String what, int min, int max, String name) throws ModelFileException {
        int v = b.getInt();
        if (v < min || v > max) {
            throw new ModelFileException(name + ": " + what + " is " + v + "; must be in [" + min + ", " + max + "]");
        }
        return v;
    }

    private static void need(ByteBuffer b, long bytes, String what, String name) throws ModelFileException {
        if (bytes > b.remaining()) {
            throw new ModelFileException(name + ": " + what + " needs " + bytes + " bytes but only " + b.remaining()
                    + " remain");
        }
    }

    /** Weights declared so far by the file being parsed (this thread's). */
    private static final ThreadLocal<Long> declared = ThreadLocal.withInitial(() -> 0L);

    private static Int8Model parse(ByteBuffer b, int version, String name) throws ModelFileException {
        declared.set(0L);
        int inputLength = count(b, "input length", 1, MAX_WIDTH, name);
        float inputScale = b.getFloat();
        int inputZero = count(b, "input zero point", 0, 255, name);
        if (!(inputScale > 0) || Float.isInfinite(inputScale)) {
            throw new ModelFileException(name + ": input scale is " + inputScale + "; must be a finite number > 0");
        }
        int layerCount = count(b, "layer count", 1, MAX_LAYERS, name);
        List<Layer> layers = new ArrayList<>(layerCount);
        int width = inputLength;
        for (int l = 0; l < layerCount; l++) {
            String at = "layer " + l;
            int kind = b.get() & 0xff;
            boolean last = l == layerCount - 1;
            Layer layer;
            if (kind == 1) {
                layer = parseDense(b, at, width, last, name);
            } else if (version >= 2 && kind == 2 && !last) {
                layer = parseConv(b, at, width, name);
            } else if (version >= 2 && kind == 3 && !last) {
                layer = parsePool(b, at, width, name);
            } else if (version >= 3 && kind == 4 && !last) {
                layer = parseDepthwise(b, at, width, name);
            } else if (version >= 3 && kind == 5 && !last) {
                layer = parseAvgPool(b, at, width, name);
            } else if (version >= 4 && kind == 6 && !last) {
                layer = parseResidualAdd(b, at, width, l, layers, inputLength, name);
            } else {
                throw new ModelFileException(name + ": " + at + " has kind " + kind + "; " + (version == 1
                        ? "version 1 knows 1 (dense)" : version == 2 ? "version 2 knows 1 (dense), 2 (convolution)"
                        + " and 3 (max pooling), and the last layer must be dense" : "version " + version + " knows 1"
                        + " (dense), 2 (convolution), 3 (max pooling), 4 (depthwise convolution)" + (version == 3
                        ? " and 5 (average pooling)" : ", 5 (average pooling) and 6 (residual add)")
                        + ", and the last layer must be dense"));
            }
            layers.add(layer);
            width = layer.outputSize();
        }
        if (b.hasRemaining()) {
            throw new ModelFileException(name + ": " + b.remaining() + " unexpected bytes after the last layer");
        }
        return new Int8Model(inputLength, inputScale, inputZero, layers);
    }

    private static DenseLayer.Activation activation(ByteBuffer b, String at, String name) throws ModelFileException {
        DenseLayer.Activation act = DenseLayer.Activation.of(b.get() & 0xff);
        if (act == null) {
            throw new ModelFileException(name + ": " + at + " has an unknown activation code");
        }
        return act;
    }

    private static DenseLayer parseDense(ByteBuffer b, String at, int width, boolean last, String name)
            throws ModelFileException {
        DenseLayer.Activation act = activation(b, at, name);
        int in = count(b, at + " input width", 1, MAX_WIDTH, name);
        int out = count(b, at + " output width", 1, MAX_WIDTH, name);
        if (in != width) {
            throw new ModelFileException(name + ": " + at + " takes " + in + " inputs but the previous layer gives "
                    + width);
        }
        byte[] weights = weights(b, (long) in * out, at, name);
        float[] scales = scales(b, out, at, name);
        int[] bias = biases(b, out, at, name);
        float outScale = 0;
        int outZero = 0;
        if (!last) {
            outScale = outputScale(b, at, name);
            outZero = count(b, at + " output zero point", 0, 255, name);
        }
        return new DenseLayer(in, out, act, scales, weights, bias, outScale, outZero);
    }

    /** Channels, height, width, kernel, stride, padding and output size of a window layer, checked. */
    private static int[] geometry(ByteBuffer b, String at, int width, boolean conv, String name) throws ModelFileException {
        int channels = count(b, at + " channels", 1, MAX_WIDTH, name);
        int height = count(b, at + " height", 1, MAX_WIDTH, name);
        int w = count(b, at + " width", 1, MAX_WIDTH, name);
        int filters = conv ? count(b, at + " filters", 1, MAX_WIDTH, name) : channels;
        int kh = count(b, at + " kernel height", 1, MAX_KERNEL, name);
        int kw = count(b, at + " kernel width", 1, MAX_KERNEL, name);
        int sh = count(b, at + " stride height", 1, MAX_KERNEL, name);
        int sw = count(b, at + " stride width", 1, MAX_KERNEL, name);
        int pt = count(b, at + " top padding", 0, kh - 1, name);
        int pl = count(b, at + " left padding", 0, kw - 1, name);
        int oh = count(b, at + " output height", 1, MAX_WIDTH, name);
        int ow = count(b, at + " output width", 1, MAX_WIDTH, name);
        if ((long) channels * height * w != width) {
            throw new ModelFileException(name + ": " + at + " takes a " + channels + "x" + height + "x" + w
                    + " feature map but the previous layer gives " + width + " values");
        }
        if ((long) filters * oh * ow > MAX_WIDTH || (conv && (long) channels * kh * kw > MAX_WIDTH)) {
            throw new ModelFileException(name + ": " + at + " is too large: " + filters + "x" + oh + "x" + ow
                    + " outputs from " + channels + "x" + kh + "x" + kw + " windows (limit " + MAX_WIDTH + " each)");
        }
        if ((long) (oh - 1) * sh - pt >= height || (long) (ow - 1) * sw - pl >= w) {
            throw new ModelFileException(name + ": " + at + " output " + oh + "x" + ow + " does not fit a " + height
                    + "x" + w + " input with stride " + sh + "x" + sw);
        }
        return new int[] {channels, height, w, filters, kh, kw, sh, sw, pt, pl, oh, ow};
    }

    private static ConvLayer parseConv(ByteBuffer b, String at, int width, String name) throws ModelFileException {
        DenseLayer.Activation act = activation(b, at, name);
        int[] g = geometry(b, at, width, true, name);
        byte[] weights = weights(b, (long) g[3] * g[0] * g[4] * g[5], at, name);
        float[] scales = scales(b, g[3], at, name);
        int[] bias = biases(b, g[3], at, name);
        float outScale = outputScale(b, at, name);
        int outZero = count(b, at + " output zero point", 0, 255, name);
        return new ConvLayer(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], act, scales,
                weights, bias, outScale, outZero);
    }

    private static MaxPoolLayer parsePool(ByteBuffer b, String at, int width, String name) throws ModelFileException {
        int[] g = geometry(b, at, width, false, name);
        return new MaxPoolLayer(g[0], g[1], g[2], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]);
    }

    private static DepthwiseConvLayer parseDepthwise(ByteBuffer b, String at, int width, String name)
            throws ModelFileException {
        DenseLayer.Activation act = activation(b, at, name);
        int[] g = geometry(b, at, width, false, name);
        byte[] weights = weights(b, (long) g[0] * g[4] * g[5], at, name);
        float[] scales = scales(b, g[0], at, name);
        int[] bias = biases(b, g[0], at, name);
        float outScale = outputScale(b, at, name);
        int outZero = count(b, at + " output zero point", 0, 255, name);
        return new DepthwiseConvLayer(g[0], g[1], g[2], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], act, scales,
                weights, bias, outScale, outZero);
    }

    private static ResidualAddLayer parseResidualAdd(ByteBuffer b, String at, int width, int index, List<Layer> before,
                                                     int inputLength, String name) throws ModelFileException {
        DenseLayer.Activation act = activation(b, at, name);
        int size = count(b, at + " size", 1, MAX_WIDTH, name);
        int start = count(b, at + " start layer", 0, index, name);
        if (size != width) {
            throw new ModelFileException(name + ": " + at + " adds " + size + " values but the previous layer gives "
                    + width);
        }
        int entering = start == 0 ? inputLength : before.get(start - 1).outputSize();
        if (entering != size) {
            throw new ModelFileException(name + ": " + at + " adds the input of layer " + start + ", " + entering
                    + " values, to its own " + size + "; a residual block must keep its input's size");
        }
        float outScale = outputScale(b, at, name);
        int outZero = count(b, at + " output zero point", 0, 255, name);
        return new ResidualAddLayer(size, start, act, outScale, outZero);
    }

    private static AvgPoolLayer parseAvgPool(ByteBuffer b, String at, int width, String name) throws ModelFileException {
        int channels = count(b, at + " channels", 1, MAX_WIDTH, name);
        int height = count(b, at + " height", 1, MAX_WIDTH, name);
        int w = count(b, at + " width", 1, MAX_WIDTH, name);
        int kh = count(b, at + " kernel height", 1, height, name);
        int kw = count(b, at + " kernel width", 1, w, name);
        int sh = count(b, at + " stride height", 1, MAX_WIDTH, name);
        int sw = count(b, at + " stride width", 1, MAX_WIDTH, name);
        int oh = count(b, at + " output height", 1, MAX_WIDTH, name);
        int ow = count(b, at + " output width", 1, MAX_WIDTH, name);
        if ((long) channels * height * w != width) {
            throw new ModelFileException(name + ": " + at + " takes a " + channels + "x" + height + "x" + w
                    + " feature map but the previous layer gives " + width + " values");
        }
        if ((long) (oh - 1) * sh + kh > height || (long) (ow - 1) * sw + kw > w) {
            throw new ModelFileException(name + ": " + at + " output " + oh + "x" + ow + " with " + kh + "x" + kw
                    + " windows does not fit a " + height + "x" + w + " input with stride " + sh + "x" + sw);
        }
        return new AvgPoolLayer(channels, height, w, kh, kw, sh, sw, oh, ow);
    }

    /** Most weights a file may declare in all, so that sparse layers cannot make a small file allocate gigabytes. */
    static final long MAX_WEIGHTS = MAX_PAYLOAD;

    private static byte[] weights(ByteBuffer b, long cells, String at, String name) throws ModelFileException {
        declared.set(declared.get() + cells);
        if (declared.get() > MAX_WEIGHTS) {
            throw new ModelFileException(name + ": " + at + " brings the weights declared to " + declared.get()
                    + "; at most " + MAX_WEIGHTS + " are accepted");
        }
        int encoding = b.get() & 0xff;
        byte[] weights;
        if (encoding == 0) {
            need(b, cells, at + " weights", name);
            weights = new byte[(int) cells];
            b.get(weights);
        } else if (encoding == 1) {
            int nnz = count(b, at + " non-zero weights", 0, (int) Math.min(Integer.MAX_VALUE, cells), name);
            need(b, 5L * nnz, at + " sparse weights", name);
            need(b, cells == 0 ? 0 : 1, at, name);
            weights = new byte[(int) cells];
            int previous = -1;
            for (int k = 0; k < nnz; k++) {
                int index = b.getInt();
                if (index <= previous || index >= cells) {
                    throw new ModelFileException(name + ": " + at + " sparse index " + index + " is out of order or"
                            + " outside [0, " + cells + ")");
                }
                weights[index] = b.get();
                previous = index;
            }
        } else {
            throw new ModelFileException(name + ": " + at + " has weight encoding " + encoding
                    + "; this runtime knows 0 (dense) and 1 (sparse)");
        }
        return weights;
    }

    private static float[] scales(ByteBuffer b, int out, String at, String name) throws ModelFileException {
        need(b, 8L * out, at + " scales and biases", name);
        float[] scales = new float[out];
        for (int j = 0; j < out; j++) {
            scales[j] = b.getFloat();
            if (!(scales[j] > 0) || Float.isInfinite(scales[j])) {
                throw new ModelFileException(name + ": " + at + " weight scale " + j + " is " + scales[j]
                        + "; must be a finite number > 0");
            }
        }
        return scales;
    }

    private static int[] biases(ByteBuffer b, int out, String at, String name) throws ModelFileException {
        int[] bias = new int[out];
        for (int j = 0; j < out; j++) {
            bias[j] = b.getInt();
            if (bias[j] > MAX_BIAS || bias[j] < -MAX_BIAS) {
                throw new ModelFileException(name + ": " + at + " bias " + j + " is " + bias[j] + "; |bias| must be"
                        + " <= " + MAX_BIAS);
            }
        }
        return bias;
    }

    private static float outputScale(ByteBuffer b, String at, String name) throws ModelFileException {
        float outScale = b.getFloat();
        if (!(outScale > 0) || Float.isInfinite(outScale)) {
            throw new ModelFileException(name + ": " + at + " output scale is " + outScale
                    + "; must be a finite number > 0");
        }
        return outScale;
    }

    private static void writeWeights(DataOutputStream p, byte[] weights) throws IOException {
        int nnz = 0;
        for (byte w : weights) {
            if (w != 0) {
                nnz++;
            }
        }
        if (nnz * 5L < weights.length) {
            p.writeByte(1);
            p.writeInt(nnz);
            for (int i = 0; i < weights.length; i++) {
                if (weights[i] != 0) {
                    p.writeInt(i);
                    p.writeByte(weights[i]);
                }
            }
        } else {
            p.writeByte(0);
            p.write(weights);
        }
    }

    private static void writeScalesAndBiases(DataOutputStream p, float[] scales, int[] bias) throws IOException {
        for (float s : scales) {
            p.writeFloat(s);
        }
        for (int v : bias) {
            p.writeInt(v);
        }
    }

    /** Writes {@code model}; layers whose weights are mostly zeros (sparse is smaller) use the sparse encoding. */
    public static void write(Int8Model model, OutputStream out) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream p = new DataOutputStream(bytes)) {
            p.writeInt(model.inputLength());
            p.writeFloat(model.inputScale());
            p.writeInt(model.inputZeroPoint());
            p.writeInt(model.layers().size());
            for (int l = 0; l < model.layers().size(); l++) {
                Layer layer = model.layers().get(l);
                boolean last = l == model.layers().size() - 1;
                if (layer instanceof DenseLayer d) {
                    p.writeByte(1);
                    p.writeByte(d.activation().code);
                    p.writeInt(d.in());
                    p.writeInt(d.out());
                    writeWeights(p, d.weights());
                    writeScalesAndBiases(p, d.weightScales(), d.bias());
                    if (!last) {
                        p.writeFloat(d.outputScale());
                        p.writeInt(d.outputZeroPoint());
                    }
                } else if (layer instanceof ConvLayer c) {
                    p.writeByte(2);
                    p.writeByte(c.activation().code);
                    for (int v : new int[] {c.channels(), c.height(), c.width(), c.filters(), c.kernelH(), c.kernelW(),
                            c.strideH(), c.strideW(), c.padTop(), c.padLeft(), c.outHeight(), c.outWidth()}) {
                        p.writeInt(v);
                    }
                    writeWeights(p, c.weights());
                    writeScalesAndBiases(p, c.weightScales(), c.bias());
                    p.writeFloat(c.outputScale());
                    p.writeInt(c.outputZeroPoint());
                } else if (layer instanceof MaxPoolLayer m) {
                    p.writeByte(3);
                    for (int v : new int[] {m.channels(), m.height(), m.width(), m.kernelH(), m.kernelW(), m.strideH(),
                            m.strideW(), m.padTop(), m.padLeft(), m.outHeight(), m.outWidth()}) {
                        p.writeInt(v);
                    }
                } else if (layer instanceof DepthwiseConvLayer c) {
                    p.writeByte(4);
                    p.writeByte(c.activation().code);
                    for (int v : new int[] {c.channels(), c.height(), c.width(), c.kernelH(), c.kernelW(), c.strideH(),
                            c.strideW(), c.padTop(), c.padLeft(), c.outHeight(), c.outWidth()}) {
                        p.writeInt(v);
                    }
                    writeWeights(p, c.weights());
                    writeScalesAndBiases(p, c.weightScales(), c.bias());
                    p.writeFloat(c.outputScale());
                    p.writeInt(c.outputZeroPoint());
                } else if (layer instanceof ResidualAddLayer r) {
                    p.writeByte(6);
                    p.writeByte(r.activation().code);
                    p.writeInt(r.size());
                    p.writeInt(r.start());
                    p.writeFloat(r.outputScale());
                    p.writeInt(r.outputZeroPoint());
                } else if (layer instanceof AvgPoolLayer a) {
                    p.writeByte(5);
                    for (int v : new int[] {a.channels(), a.height(), a.width(), a.kernelH(), a.kernelW(), a.strideH(),
                            a.strideW(), a.outHeight(), a.outWidth()}) {
                        p.writeInt(v);
                    }
                }
            }
        }
        byte[] payload = bytes.toByteArray();
        CRC32 crc = new CRC32();
        crc.update(payload);
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        // The lowest version that holds the model's layers, so its file still opens in older runtimes.
        boolean denseOnly = model.layers().stream().allMatch(x -> x instanceof DenseLayer);
        boolean v2 = model.layers().stream().allMatch(x -> x instanceof DenseLayer || x instanceof ConvLayer
                || x instanceof MaxPoolLayer);
        boolean v3 = model.layers().stream().noneMatch(x -> x instanceof ResidualAddLayer);
        header.put(MAGIC).put((byte) (denseOnly ? 1 : v2 ? 2 : v3 ? 3 : VERSION)).put(new byte[3]).putInt(payload.length)
                .putInt((int) crc.getValue());
        out.write(header.array());
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        try {
            deflater.setInput(payload);
            deflater.finish();
            byte[] buf = new byte[1 << 16];
            while (!deflater.finished()) {
                int n = deflater.deflate(buf);
                out.write(buf, 0, n);
            }
        } finally {
            deflater.end();
        }
    }
}
