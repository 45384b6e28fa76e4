package dev.distill.student;

import dev.distill.runtime.DenseLayer;
import dev.distill.runtime.Int8Model;
import onnx.Onnx;
import org.nd4j.shade.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes an {@link Int8Model} as an ONNX model in QDQ form (opset 13), so that any ONNX runtime runs the
 * same quantised network as the int8 file:
 * <pre>
 *   input ─ QuantizeLinear ─ DequantizeLinear (uint8, the input range)
 *     per layer:  W int8 [out, in] ─ DequantizeLinear (per-axis scales, axis 0)
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
        for (int l = 0; l < m.layers().size(); l++) {
            DenseLayer d = m.layers().get(l);
            String p = "layer" + l + "_";
            g.addInitializer(tensor(p + "w_q", Onnx.TensorProto.DataType.INT8_VALUE, d.weights(), d.out(), d.in()));
            g.addInitializer(floats(p + "w_scale", d.weightScales()));
            g.addInitializer(tensor(p + "w_zero_point", Onnx.TensorProto.DataType.INT8_VALUE, new byte[d.out()], d.out()));
            g.addNode(node("DequantizeLinear", p + "dequantize_w", new String[] {p + "w_q", p + "w_scale",
                    p + "w_zero_point"}, p + "w", axis(0)));
            float[] biasScale = new float[d.out()];
            for (int j = 0; j < d.out(); j++) {
                biasScale[j] = inScale * d.weightScales()[j];
            }
            g.addInitializer(int32s(p + "b_q", d.bias()));
            g.addInitializer(floats(p + "b_scale", biasScale));
            g.addNode(node("DequantizeLinear", p + "dequantize_b", new String[] {p + "b_q", p + "b_scale"}, p + "b",
                    axis(0)));
            boolean last = l == m.layers().size() - 1;
            boolean relu = d.activation() == DenseLayer.Activation.RELU;
            String y = last && !relu ? "logits" : p + "gemm";
            g.addNode(node("Gemm", p + "gemm", new String[] {x, p + "w", p + "b"}, y,
                    Onnx.AttributeProto.newBuilder().setName("transB").setType(Onnx.AttributeProto.AttributeType.INT)
                            .setI(1).build()));
            if (relu) {
                String r = last ? "logits" : p + "relu";
                g.addNode(node("Relu", p + "relu", new String[] {y}, r));
                y = r;
            }
            if (!last) {
                g.addInitializer(scalar(p + "out_scale", d.outputScale()));
                g.addInitializer(uint8Scalar(p + "out_zero_point", d.outputZeroPoint()));
                g.addNode(node("QuantizeLinear", p + "quantize_out", new String[] {y, p + "out_scale",
                        p + "out_zero_point"}, p + "out_q"));
                x = "x" + (l + 1);
                g.addNode(node("DequantizeLinear", p + "dequantize_out", new String[] {p + "out_q", p + "out_scale",
                        p + "out_zero_point"}, x));
                inScale = d.outputScale();
            }
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
