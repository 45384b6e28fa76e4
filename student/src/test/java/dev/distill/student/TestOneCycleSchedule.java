package dev.distill.student;

import com.typesafe.config.ConfigFactory;
import dev.distill.settings.SettingsException;
import dev.distill.settings.SettingsReader;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestOneCycleSchedule {

    /** Values computed by hand from the formula in the class comment (peak 0.01, lo 0.0004, end 4e-8). */
    @Test
    void followsTheCosineWarmUpAndDecay() {
        OneCycleSchedule s = new OneCycleSchedule(0.01, 10, 0.3);
        // epoch 0: t = 0.05, warm-up: 0.0004 + 0.0096 * (1 - cos(pi / 6)) / 2
        assertEquals(0.0010430780618346947, s.valueAt(0, 0), 1e-15);
        // epoch 5: t = 0.55, decay: 4e-8 + (0.01 - 4e-8) * (1 + cos(pi * 0.25 / 0.7)) / 2
        assertEquals(0.007169430017913006, s.valueAt(123, 5), 1e-15);
        // epoch 9: t = 0.95, near the end
        assertEquals(0.00012539993764912612, s.valueAt(0, 9), 1e-15);
        // the peak is reached at t = w exactly, the ends approach lo and end
        assertEquals(0.01, s.at(0.3), 1e-15);
        assertEquals(0.0004, s.at(0), 1e-15);
        assertEquals(4e-8, s.at(1), 1e-15);
        // epochs past the last keep the last epoch's rate (a run resumed with fewer epochs is refused elsewhere)
        assertEquals(s.valueAt(0, 9), s.valueAt(0, 40), 0);
        // warm-up 0 is cosine decay from the peak: epoch 0 of 4 at t = 0.125
        assertEquals(0.009619399184965783, new OneCycleSchedule(0.01, 4, 0).valueAt(0, 0), 1e-15);
    }

    @Test
    void refusesImpossibleShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new OneCycleSchedule(0.01, 10, 1.0));
        assertEquals("one-cycle schedule: peak 0.01 must be > 0, epochs 10 >= 1 and warm-up share 1.0 in [0, 1)",
                e.getMessage());
    }

    /** Workers rebuild the network from its JSON: the schedule must survive it, and drive Adam's rate by epoch. */
    @Test
    void survivesTheNetworkJsonAndDrivesTheUpdater() {
        TrainingSettings t = read("type = one-cycle, warmup = 0.3", 10, 0.01);
        assertEquals(new Adam(new OneCycleSchedule(0.01, 10, 0.3)), t.updater());
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().updater(t.updater()).list()
                .layer(new DenseLayer.Builder().nIn(3).nOut(4).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2).build())
                .build();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(conf.toJson());
        Adam adam = (Adam) ((BaseLayer) back.getConf(0).getLayer()).getIUpdater();
        assertEquals(new OneCycleSchedule(0.01, 10, 0.3), adam.getLearningRateSchedule());
        assertEquals(0.007169430017913006, adam.getLearningRate(0, 5), 1e-15);
    }

    @Test
    void isReadFromTheTrainingSection() {
        TrainingSettings t = read("type = one-cycle, warmup = 0", 4, 0.01);
        assertEquals("one-cycle", t.scheduleType());
        assertEquals(0.0, t.warmup());
        SettingsException e = assertThrows(SettingsException.class, () -> read("type = one-cycle, warmup = 1", 4, 0.01));
        assertTrue(e.getMessage().contains("kd.student.training.schedule.warmup"), e.getMessage());
        assertTrue(e.getMessage().contains("must be a number in [0.0, 0.95]"), e.getMessage());
        e = assertThrows(SettingsException.class, () -> read("type = cyclic", 4, 0.01));
        assertTrue(e.getMessage().contains("one-cycle"), e.getMessage());
    }

    private static TrainingSettings read(String schedule, int epochs, double lr) {
        SettingsReader r = SettingsReader.of(ConfigFactory.parseString("kd.student.training { epochs = " + epochs
                + ", updater.learning-rate = " + lr + ", schedule { " + schedule + " } }")
                .withFallback(ConfigFactory.defaultReference()).resolve(), "kd.student.training");
        TrainingSettings t = TrainingSettings.read(r);
        r.throwIfAny();
        return t;
    }
}
