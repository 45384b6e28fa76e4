package dev.distill.student.export;

import dev.distill.runtime.AvgPoolLayer;
import dev.distill.runtime.ConvLayer;
import dev.distill.runtime.DepthwiseConvLayer;
import dev.distill.runtime.DenseLayer;
import dev.distill.runtime.Int8Model;
import dev.distill.runtime.Layer;
import dev.distill.runtime.MaxPoolLayer;
import dev.distill.runtime.ResidualAddLayer;
import onnx.Onnx;
import org.nd4j.shade.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes an {@link Int8Model} as an ONNX model in QDQ form (opset 13), so that any ONNX runtime runs the
 * same quantised network as the int8 file:
 * <pre>
 *   input ─ QuantizeLinear ─ DequantizeLinear (uint8, the input range)
 *     convolution: (Reshape to [N, C, H, W] before the first)
 *                 W int8 [F, C, kh, kw] ─ DequantizeLinear (per-axis, axis 0), b int32 ─ DequantizeLinear
 *                 Conv(x, W, b, strides, pads) ─ Relu? ─ QuantizeLinear ─ DequantizeLinear
 *     depthwise:  W int8 [C, 1, kh, kw] ─ DequantizeLinear (per-axis), Conv(group = C), as a convolution
 *     max pooling: MaxPool(kernel, strides, pads)
 *     average pooling (global: the whole map): AveragePool(kernel, strides) ─ QuantizeLinear ─ DequantizeLinear
 *                 at the input's own (scale, zero point), as the runtime keeps the mean on the code grid
 *     residual add: Add(x, the block's input) ─ Relu? ─ QuantizeLinear ─ DequantizeLinear
 *     dense:      (Flatten after a feature map)
 *                 W int8 [out, in] ─ DequantizeLinear (per-axis scales, axis 0)
 *                 b int32 [out]    ─ DequantizeLinear (scale s_in · s_w, axis 0)
 *                 Gemm(x, W, b, transB = 1) ─ Relu?
 *                 ─ QuantizeLinear ─ DequantizeLinear (uint8, the layer's output range; not after the last)
 *   ─ logits
 * </pre>
 * Rounding in QuantizeLinear is half to even, as in the runtime. Built with the ONNX protobuf classes
 * that ship in nd4j-api.
 */
public final class OnnxExporter {
    static final int OPSET = 13;
    static final long IR_VERSION = 7;

    private OnnxExporter() {
    }

    /** The serialised ONNX model (a {@code ModelProto}). */
    public static byte[] export(Int8Model m, String producerVersion) {
        Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("distill_student");
        g.addInput(value("input", m.inputLength()));
        g.addOutput(value("logits", m.numClasses()));
        g.addInitializer(scalar("input_scale", m.inputScale()));
        g.addInitializer(uint8Scalar("input_zero_point", m.inputZeroPoint()));
        g.addNode(node("QuantizeLinear", "quantize_input", new String[] {"input", "input_scale", "input_zero_point"},
                "input_q"));
        g.addNode(node("DequantizeLinear", "dequantize_input",
                new String[] {"input_q", "input_scale", "input_zero_point"}, "x0"));
        String x = "x0";
        float inScale = m.inputScale();
        float scaleNow = m.inputScale();   // the (scale, zero point) of the activations at this point
        int zeroNow = m.inputZeroPoint();
        boolean map = false;
        String[] entering = new String[m.layers().size()];   // each layer's input, for the residual adds
        for (int l = 0; l < m.layers().size(); l++) {
            Layer layer = m.layers().get(l);
            String p = "layer" + l + "_";
            if (!(layer instanceof DenseLayer) && !(layer instanceof ResidualAddLayer) && !map) {
                int[] chw = inputMap(layer);
                g.addInitializer(int64s(p + "shape", -1, chw[0], chw[1], chw[2]));
                g.addNode(node("Reshape", p + "reshape", new String[] {x, p + "shape"}, p + "map"));
                x = p + "map";
                map = true;
            }
            if (layer instanceof DenseLayer && map) {
                g.addNode(node("Flatten", p + "flatten", new String[] {x}, p + "flat", axis(1)));
                x = p + "flat";
                map = false;
            }
            entering[l] = x;   // as the layer sees it: a block's input has the shape of its output
            if (layer instanceof ResidualAddLayer r) {
                // A block keeps its input's shape, so both sides are maps, or both flat.
                g.addNode(node("Add", p + "add", new String[] {x, entering[r.start()]}, p + "sum"));
                x = requantise(g, p, p + "sum", r.activation() == DenseLayer.Activation.RELU, r.outputScale(),
                        r.outputZeroPoint(), "x" + (l + 1));
                inScale = r.outputScale();
                scaleNow = r.outputScale();
                zeroNow = r.outputZeroPoint();
                continue;
            }
            if (!(layer instanceof DenseLayer)) {
                if (layer instanceof MaxPoolLayer pool) {
                    g.addNode(node("MaxPool", p + "maxpool", new String[] {x}, p + "pool",
                            ints("kernel_shape", pool.kernelH(), pool.kernelW()), ints("strides", pool.strideH(), pool.strideW()),
                            ints("pads", pads(pool.height(), pool.width(), pool.kernelH(), pool.kernelW(), pool.strideH(),
                                    pool.strideW(), pool.padTop(), pool.padLeft(), pool.outHeight(), pool.outWidth()))));
                    x = p + "pool";
                    continue;
                }
                if (layer instanceof AvgPoolLayer pool) {
                    g.addNode(node("AveragePool", p + "avgpool", new String[] {x}, p + "pool",
                            ints("kernel_shape", pool.kernelH(), pool.kernelW()),
                            ints("strides", pool.strideH(), pool.strideW())));
                    x = requantise(g, p, p + "pool", false, scaleNow, zeroNow, "x" + (l + 1));
                    continue;
                }
                if (layer instanceof DepthwiseConvLayer c) {
                    g.addInitializer(tensor(p + "w_q", Onnx.TensorProto.DataType.INT8_VALUE, c.weights(), c.channels(),
                            1, c.kernelH(), c.kernelW()));
                    addBias(g, p, c.weightScales(), c.bias(), inScale, c.channels());
                    g.addNode(node("Conv", p + "conv", new String[] {x, p + "w", p + "b"}, p + "conv",
                            ints("kernel_shape", c.kernelH(), c.kernelW()), ints("strides", c.strideH(), c.strideW()),
                            ints("pads", pads(c.height(), c.width(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(),
                                    c.padTop(), c.padLeft(), c.outHeight(), c.outWidth())),
                            Onnx.AttributeProto.newBuilder().setName("group").setType(Onnx.AttributeProto.AttributeType.INT)
                                    .setI(c.channels()).build()));
                    x = requantise(g, p, p + "conv", c.activation() == DenseLayer.Activation.RELU, c.outputScale(),
                            c.outputZeroPoint(), "x" + (l + 1));
                    inScale = c.outputScale();
                    scaleNow = c.outputScale();
                    zeroNow = c.outputZeroPoint();
                    continue;
                }
                ConvLayer c = (ConvLayer) layer;
                g.addInitializer(tensor(p + "w_q", Onnx.TensorProto.DataType.INT8_VALUE, c.weights(), c.filters(),
                        c.channels(), c.kernelH(), c.kernelW()));
                addBias(g, p, c.weightScales(), c.bias(), inScale, c.filters());
                g.addNode(node("Conv", p + "conv", new String[] {x, p + "w", p + "b"}, p + "conv",
                        ints("kernel_shape", c.kernelH(), c.kernelW()), ints("strides", c.strideH(), c.strideW()),
                        ints("pads", pads(c.height(), c.width(), c.kernelH(), c.kernelW(), c.strideH(), c.strideW(),
                                c.padTop(), c.padLeft(), c.outHeight(), c.outWidth()))));
                x = requantise(g, p, p + "conv", c.activation() == DenseLayer.Activation.RELU, c.outputScale(),
                        c.outputZeroPoint(), "x" + (l + 1));
                inScale = c.outputScale();
                scaleNow = c.outputScale();
                zeroNow = c.outputZeroPoint();
                continue;
            }
            DenseLayer d = (DenseLayer) layer;
            g.addInitializer(tensor(p + "w_q", Onnx.TensorProto.DataType.INT8_VALUE, d.weights(), d.out(), d.in()));
            addBias(g, p, d.weightScales(), d.bias(), inScale, d.out());
            boolean last = l == m.layers().size() - 1;
            boolean relu = d.activation() == DenseLayer.Activation.RELU;
            String y = last && !relu ? "logits" : p + "gemm";
            g.addNode(node("Gemm", p + "gemm", new String[] {x, p + "w", p + "b"}, y,
                    Onnx.AttributeProto.newBuilder().setName("transB").setType(Onnx.AttributeProto.AttributeType.INT)
                            .setI(1).build()));
            if (last) {
                if (relu) {
                    g.addNode(node("Relu", p + "relu", new String[] {y}, "logits"));
                }
                break;
            }
            x = requantise(g, p, y, relu, d.outputScale(), d.outputZeroPoint(), "x" + (l + 1));
            inScale = d.outputScale();
            scaleNow = d.outputScale();
            zeroNow = d.outputZeroPoint();
        }
        return Onnx.ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("distill")
                .setProducerVersion(producerVersion)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g)
                .build()
                .toByteArray();
    }

    /** [channels, height, width] of a window layer's input. */
    private static int[] inputMap(Layer layer) {
        if (layer instanceof ConvLayer c) {
            return new int[] {c.channels(), c.height(), c.width()};
        }
        if (layer instanceof DepthwiseConvLayer c) {
            return new int[] {c.channels(), c.height(), c.width()};
        }
        if (layer instanceof MaxPoolLayer c) {
            return new int[] {c.channels(), c.height(), c.width()};
        }
        AvgPoolLayer c = (AvgPoolLayer) layer;
        return new int[] {c.channels(), c.height(), c.width()};
    }

    /** Per-axis dequantisation of the weights {@code p + "w_q"} (already added) and the int32 biases. */
    private static void addBias(Onnx.GraphProto.Builder g, String p, float[] weightScales, int[] bias, float inScale,
                                int out) {
        g.addInitializer(floats(p + "w_scale", weightScales));
        g.addInitializer(tensor(p + "w_zero_point", Onnx.TensorProto.DataType.INT8_VALUE, new byte[out], out));
        g.addNode(node("DequantizeLinear", p + "dequantize_w", new String[] {p + "w_q", p + "w_scale",
                p + "w_zero_point"}, p + "w", axis(0)));
        float[] biasScale = new float[out];
        for (int j = 0; j < out; j++) {
            biasScale[j] = inScale * weightScales[j];
        }
        g.addInitializer(int32s(p + "b_q", bias));
        g.addInitializer(floats(p + "b_scale", biasScale));
        g.addNode(node("DequantizeLinear", p + "dequantize_b", new String[] {p + "b_q", p + "b_scale"}, p + "b",
                axis(0)));
    }

    /** Relu (optional), then QuantizeLinear and DequantizeLinear with the layer's output parameters. */
    private static String requantise(Onnx.GraphProto.Builder g, String p, String y, boolean relu, float scale, int zero,
                                     String output) {
        if (relu) {
            g.addNode(node("Relu", p + "relu", new String[] {y}, p + "relu"));
            y = p + "relu";
        }
        g.addInitializer(scalar(p + "out_scale", scale));
        g.addInitializer(uint8Scalar(p + "out_zero_point", zero));
        g.addNode(node("QuantizeLinear", p + "quantize_out", new String[] {y, p + "out_scale", p + "out_zero_point"},
                p + "out_q"));
        g.addNode(node("DequantizeLinear", p + "dequantize_out", new String[] {p + "out_q", p + "out_scale",
                p + "out_zero_point"}, output));
        return output;
    }

    /** ONNX pads [top, left, bottom, right]: bottom and right make the stored output size come out. */
    static long[] pads(int h, int w, int kh, int kw, int sh, int sw, int top, int left, int oh, int ow) {
        return new long[] {top, left, Math.max(0, (long) (oh - 1) * sh + kh - h - top),
                Math.max(0, (long) (ow - 1) * sw + kw - w - left)};
    }

    private static Onnx.AttributeProto ints(String name, long... values) {
        Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
                .setType(Onnx.AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static Onnx.TensorProto int64s(String name, long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(v);
        return tensor(name, Onnx.TensorProto.DataType.INT64_VALUE, b.array(), v.length);
    }

    private static Onnx.ValueInfoProto value(String name, int width) {
        Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder()
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(width));
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(
                Onnx.TypeProto.Tensor.newBuilder().setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE).setShape(shape)))
                .build();
    }

    private static Onnx.NodeProto node(String op, String name, String[] inputs, String output,
                                       Onnx.AttributeProto... attributes) {
        Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(name).addOutput(output);
        for (String i : inputs) {
            n.addInput(i);
        }
        for (Onnx.AttributeProto a : attributes) {
            n.addAttribute(a);
        }
        return n.build();
    }

    private static Onnx.AttributeProto axis(int axis) {
        return Onnx.AttributeProto.newBuilder().setName("axis").setType(Onnx.AttributeProto.AttributeType.INT)
                .setI(axis).build();
    }

    private static Onnx.TensorProto tensor(String name, int type, byte[] raw, long... dims) {
        Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(type)
                .setRawData(ByteString.copyFrom(raw));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static Onnx.TensorProto scalar(String name, float v) {
        return tensor(name, Onnx.TensorProto.DataType.FLOAT_VALUE, littleEndian(new float[] {v}));
    }

    private static Onnx.TensorProto uint8Scalar(String name, int v) {
        return tensor(name, Onnx.TensorProto.DataType.UINT8_VALUE, new byte[] {(byte) v});
    }

    private static Onnx.TensorProto floats(String name, float[] v) {
        return tensor(name, Onnx.TensorProto.DataType.FLOAT_VALUE, littleEndian(v), v.length);
    }

    private static Onnx.TensorProto int32s(String name, int[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(v);
        return tensor(name, Onnx.TensorProto.DataType.INT32_VALUE, b.array(), v.length);
    }

    private static byte[] littleEndian(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }
}
