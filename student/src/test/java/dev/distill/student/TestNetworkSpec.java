package dev.distill.student;

import dev.distill.student.loss.HintonLoss;
import com.typesafe.config.ConfigFactory;
import dev.distill.settings.Problem;
import dev.distill.settings.SettingsReader;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TestNetworkSpec {

    private static SettingsReader section(String layers) {
        return SettingsReader.of(ConfigFactory.parseString("a { layers = " + layers + " }"), "a");
    }

    @Test
    void denseStudentHasTheTextbookParameterCount() {
        SettingsReader r = section("[ { type = dense, units = 32 } ]");
        NetworkSpec spec = NetworkSpec.read(r, new int[] {1, 28, 28}, 10);
        assertThat(r.problems()).isEmpty();
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        assertThat(net.numParams()).isEqualTo(784 * 32 + 32 + 32 * 10 + 10);
    }

    @Test
    void convolutionalStudentBuildsFromFlatInput() {
        SettingsReader r = section("[ { type = conv, filters = 4, kernel = 3 }, { type = pool, kernel = 2 },"
                + " { type = batch-norm }, { type = dropout, rate = 0.25 }, { type = dense, units = 8 }, { type = output, units = 10 } ]");
        NetworkSpec spec = NetworkSpec.read(r, new int[] {1, 28, 28}, 10);
        assertThat(r.problems()).isEmpty();
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        // conv 4*(1*3*3)+4 = 40; batch-norm 4 channels * 4 = 16; dense 14*14*4*8+8 = 6280; output 8*10+10 = 90
        assertThat(net.numParams()).isEqualTo(40 + 16 + 6280 + 90);
        assertThat(net.output(org.nd4j.linalg.factory.Nd4j.rand(2, 784)).shape()).containsExactly(2, 10);
    }

    @Test
    void reportsWrongKeysTypesAndClassConflicts() {
        SettingsReader r = section("[ { type = dense, units = 0, dropuot = 0.1 }, { type = lstm },"
                + " { type = output, units = 5 } ]");
        NetworkSpec.read(r, new int[] {784}, 10);
        assertThat(r.problems()).extracting(Problem::toString).containsExactly(
                "a.layers[0].dropuot = 0.1: unknown key for a dense layer; valid keys: activation, dropout, prune, quantise, rank, type, units",
                "a.layers[0].units = 0: must be an integer in [1, 1048576]",
                "a.layers[1].type = \"lstm\": must be one of batch-norm, conv, dense, depthwise, dropout, global-pool, output, pool, residual",
                "a.layers[2].units = 5: the output layer has 5 units but the data has 10 classes"
                        + " (kd.dataset.num-classes, which the teacher shares); they must match");
    }

    @Test
    void convolutionNeedsAnImageShape() {
        SettingsReader r = section("[ { type = conv, filters = 2, kernel = 3 } ]");
        NetworkSpec.read(r, new int[] {784}, 10);
        assertThat(r.problems()).extracting(Problem::message).containsExactly(
                "convolution and pooling layers need a [channels, height, width] input shape; the data's input shape"
                        + " is [784] (set kd.dataset.input-shape)");
    }

    @Test
    void dropoutActsOnALayersOutputs() {
        SettingsReader r = section("[ { type = dense, units = 8, dropout = 0.25 }, { type = dense, units = 4 } ]");
        var conf = NetworkSpec.read(r, new int[] {6}, 3).toConfiguration(new HintonLoss(1, 0), Fixtures.training(), 1);
        // DL4J applies a layer's dropOut to its input and takes the retain probability.
        assertThat(conf.getConf(0).getLayer().getIDropout()).isNull();
        assertThat(((org.deeplearning4j.nn.conf.dropout.Dropout) conf.getConf(1).getLayer().getIDropout()).getP())
                .isEqualTo(0.75);
        assertThat(conf.getConf(2).getLayer().getIDropout()).isNull();
    }

    @Test
    void residualBlocksAreFlattenedBetweenTheirTwoEnds() {
        SettingsReader r = section("[ { type = conv, filters = 4, kernel = 3 }, { type = residual, activation = relu,"
                + " layers = [ { type = depthwise, kernel = 3 }, { type = conv, filters = 4, kernel = 1, activation = identity } ] },"
                + " { type = global-pool } ]");
        NetworkSpec spec = NetworkSpec.read(r, new int[] {1, 8, 8}, 3);
        assertThat(r.problems()).isEmpty();
        assertThat(spec.layers()).extracting(LayerSpec::type).containsExactly("conv", "residual-start", "depthwise", "conv",
                "residual-add", "global-pool");
        assertThat(spec.layers().get(4).activation()).isEqualTo("relu");
        assertThat(NetworkSpec.elements(r)).extracting(NetworkSpec.Element::key).containsExactly("a.layers[0]",
                "a.layers[1]", "a.layers[1].layers[0]", "a.layers[1].layers[1]", "a.layers[1]", "a.layers[2]");
        for (int i = 0; i < spec.layers().size(); i++) {
            assertThat("a." + spec.path(i)).isEqualTo(NetworkSpec.elements(r).get(i).key());
        }
        assertThat(spec.path(spec.layers().size())).isEqualTo("the output layer");
        MultiLayerNetwork net = spec.newNetwork(new HintonLoss(1, 0), Fixtures.training(), 1);
        // conv 4·9 + 4, depthwise 4·9 + 4, pointwise 4·4 + 4, output 4·3 + 3; the block's two ends have none
        assertThat(net.numParams()).isEqualTo(40 + 40 + 20 + 15);
        assertThat(net.output(org.nd4j.linalg.factory.Nd4j.rand(2, 64)).shape()).containsExactly(2, 3);
    }

    @Test
    void residualBlockMistakesAreNamed() {
        SettingsReader r = section("[ { type = conv, filters = 4, kernel = 3 }, { type = residual, layers = ["
                + " { type = conv, filters = 8, kernel = 3, stride = 2 } ] } ]");
        NetworkSpec.read(r, new int[] {1, 8, 8}, 3);
        assertThat(r.problems()).extracting(Problem::toString).containsExactly(
                "a.layers[1].type = \"residual\": a residual block adds its input to the output of its layers, so they"
                        + " must keep its shape [4, 8, 8]; they give [8, 4, 4] (keep stride 1, \"same\" padding, no pooling,"
                        + " and as many filters as the block's input has channels)");
        r = section("[ { type = residual, layers = [] }, { type = residual, activation = relu,"
                + " layers = [ { type = dense, units = 6, rank = 2 }, { type = output } ], act = relu } ]");
        NetworkSpec.read(r, new int[] {6}, 3);
        assertThat(r.problems()).extracting(Problem::toString).containsExactly(
                "a.layers[0].layers = []: a residual block needs at least one layer, e.g. [ { type = conv, filters = 16,"
                        + " kernel = 3 } ]",
                "a.layers[1].layers[1].type = \"output\": an output layer may only be the last layer of the architecture,"
                        + " not inside a residual block",
                "a.layers[1].act = \"relu\": unknown key for a residual layer; valid keys: activation, layers, type");
    }
}
