package dev.distill.teacher;

import dev.distill.datasets.IdxFile;
import onnx.Onnx;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

public class TestOnnxTeacher {
    static final Path MODEL = Path.of("src/test/resources/onnx/fashion-cnn.onnx");
    static final Path LOGITS = Path.of("src/test/resources/onnx/fashion-cnn-logits.csv");
    static final Path IMAGES = Path.of("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    static final OnnxTeacher.Options IMAGE = new OnnxTeacher.Options("", "", new int[] {1, 28, 28}, false);

    /** The first {@code n} Fashion-MNIST test images, scaled to [0, 1] as the script and distill scale them. */
    public static float[] images(int n) throws Exception {
        try (InputStream raw = Files.newInputStream(IMAGES);
             DataInputStream in = new DataInputStream(IdxFile.maybeGunzip(raw))) {
            IdxFile.readHeader(in, IMAGES.toString());
            byte[] b = new byte[n * 784];
            IdxFile.readFully(in, b, IMAGES.toString());
            float[] x = new float[b.length];
            for (int i = 0; i < b.length; i++) {
                x[i] = (b[i] & 0xff) / 255f;
            }
            return x;
        }
    }

    /** The committed model, exported from PyTorch by scripts/make-onnx-teacher.py, gives PyTorch's logits. */
    @Test
    void logitsMatchWhatPyTorchComputed() throws Exception {
        List<String> rows = Files.readAllLines(LOGITS);
        assertThat(rows).hasSize(64);
        try (OnnxTeacher t = new OnnxTeacher(Files.readAllBytes(MODEL), "fashion-cnn.onnx", IMAGE, 784, 10, 1)) {
            float[] logits = t.logits(images(64), 64);
            for (int r = 0; r < 64; r++) {
                String[] cells = rows.get(r).split(",");
                for (int c = 0; c < 10; c++) {
                    assertThat(logits[r * 10 + c]).as("image %d class %d", r, c)
                            .isCloseTo(Float.parseFloat(cells[c]), within(1e-3f));
                }
            }
            // 8·9 + 8 + 16·8·9 + 16 + 784·10 + 10 weights and biases.
            assertThat(t.parameters()).isEqualTo(80 + 1168 + 7850);
        }
    }

    @Test
    void wrongShapesAndClassCountsNameTheModelWhatItDeclaresAndWhatTheDataProvides() throws Exception {
        byte[] model = Files.readAllBytes(MODEL);
        assertThatThrownBy(() -> new OnnxTeacher(model, "m.onnx", new OnnxTeacher.Options("", "", new int[0], false),
                784, 10, 1)).hasMessage("m.onnx: input 'image' is declared [batch, 1, 28, 28] but the data set provides"
                + " [batch, 784] (784 features per row; set kd.teacher.onnx.input-shape, e.g. [1, 28, 28] for an NCHW"
                + " image model)");
        assertThatThrownBy(() -> new OnnxTeacher(model, "m.onnx", IMAGE, 784, 5, 1))
                .hasMessage("m.onnx: output 'logits' is declared [batch, 10] but the data set has 5 classes"
                        + " (kd.dataset.num-classes); expected [batch, 5]");
        assertThatThrownBy(() -> new OnnxTeacher(model, "m.onnx", new OnnxTeacher.Options("", "", new int[] {1, 14, 14},
                false), 784, 10, 1)).hasMessage("m.onnx: kd.teacher.onnx.input-shape [1, 14, 14] holds 196 values but"
                + " the data set has 784 features per row");
        assertThatThrownBy(() -> new OnnxTeacher(model, "m.onnx", new OnnxTeacher.Options("pixels", "", new int[] {1, 28,
                28}, false), 784, 10, 1)).hasMessage("m.onnx: has no input named 'pixels'; its inputs: image");
        assertThatThrownBy(() -> new OnnxTeacher(new byte[] {1, 2, 3, 4, 5}, "bad.onnx", IMAGE, 784, 10, 1))
                .hasMessageStartingWith("bad.onnx: not a model ONNX Runtime can load (");
    }

    /** A model with inputs a and b (a + b, then Softmax): which input is ambiguous; probabilities become log p. */
    @Test
    void twoInputsNeedTheInputKeyAndProbabilitiesBecomeLogProbabilities() throws Exception {
        byte[] twoInputs = model(true);
        assertThatThrownBy(() -> new OnnxTeacher(twoInputs, "two.onnx", new OnnxTeacher.Options("", "", new int[0], true),
                3, 3, 1)).hasMessage("two.onnx: has 2 inputs (a, b); set kd.teacher.onnx.input to the one to use");
        try (OnnxTeacher t = new OnnxTeacher(model(false), "softmax.onnx", new OnnxTeacher.Options("", "", new int[0],
                true), 3, 3, 1)) {
            float[] z = t.logits(new float[] {1, 2, 3}, 1);
            double lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
            assertThat(z).containsExactly(new float[] {(float) (1 - lse), (float) (2 - lse), (float) (3 - lse)},
                    within(1e-5f));
        }
    }

    private static byte[] model(boolean twoInputs) {
        Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("g");
        g.addInput(value("a"));
        String x = "a";
        if (twoInputs) {
            g.addInput(value("b"));
            g.addNode(Onnx.NodeProto.newBuilder().setOpType("Add").addInput("a").addInput("b").addOutput("sum"));
            x = "sum";
        }
        g.addNode(Onnx.NodeProto.newBuilder().setOpType("Softmax").addInput(x).addOutput("p")
                .addAttribute(Onnx.AttributeProto.newBuilder().setName("axis").setType(Onnx.AttributeProto.AttributeType.INT)
                        .setI(1)));
        g.addOutput(value("p"));
        return Onnx.ModelProto.newBuilder().setIrVersion(7)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build()
                .toByteArray();
    }

    private static Onnx.ValueInfoProto value(String name) {
        return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder().setTensorType(
                Onnx.TypeProto.Tensor.newBuilder().setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE).setShape(
                        Onnx.TensorShapeProto.newBuilder()
                                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("N"))
                                .addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(3))))).build();
    }
}
