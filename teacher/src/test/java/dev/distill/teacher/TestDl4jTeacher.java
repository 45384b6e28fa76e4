package dev.distill.teacher;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TestDl4jTeacher {
    @TempDir
    Path dir;

    static MultiLayerNetwork softmaxNet() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(5).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build());
        net.init();
        return net;
    }

    @Test
    void aSoftmaxTeacherFromElsewhereGivesLogProbabilitiesAsLogits() throws Exception {
        File zip = dir.resolve("teacher.zip").toFile();
        ModelSerializer.writeModel(softmaxNet(), zip, false);
        Dl4jTeacher t = new Dl4jTeacher(Dl4jTeacher.load(zip), 4);
        assertThat(t.numClasses()).isEqualTo(3);
        assertThat(t.parameters()).isEqualTo(4 * 5 + 5 + 5 * 3 + 3);
        float[] x = {0.1f, -0.2f, 0.3f, 0.4f, 1f, 0f, -1f, 0.5f};
        float[] logits = t.logits(x, 2);
        float[] probs = softmaxNet().output(Nd4j.create(x, new long[] {2, 4}, 'c')).data().asFloat();
        assertThat(logits).hasSize(6);
        for (int i = 0; i < 6; i++) {
            assertThat(logits[i]).isCloseTo((float) Math.log(probs[i]), within(1e-5f));
        }
        // Log-probabilities differ from true logits by a per-row constant, so softmax recovers the probabilities.
        double sum = 0;
        for (int k = 0; k < 3; k++) {
            sum += Math.exp(logits[k]);
        }
        assertThat(sum).isCloseTo(1.0, within(1e-5));
    }

    @Test
    void aFileThatIsNotAModelZipIsNamed() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.zip"), "not a zip");
        assertThatThrownBy(() -> Dl4jTeacher.load(bad.toFile()))
                .hasMessageStartingWith(bad + ": not a readable DL4J model zip (")
                .hasMessageEndingWith("); a damaged or replaced file: write it again (`distill train-teacher`,"
                        + " `train-student`) or name an intact one (a file written by DL4J's ModelSerializer)");
    }
}
