package dev.distill.student;

import dev.distill.settings.SettingsReader;

/**
 * Settings of {@code kd.student}: the architecture, how it is trained, the distillation loss (temperature T
 * and weight α of the soft term) and whether the same student is also trained on hard labels alone as the
 * baseline every report shows beside the distilled one.
 */
public record StudentSettings(NetworkSpec architecture, TrainingSettings training, double temperature, double alpha,
                              boolean baseline) {

    public static StudentSettings read(SettingsReader kd, int[] inputShape, int numClasses) {
        SettingsReader s = kd.section("student");
        NetworkSpec arch = NetworkSpec.read(s.section("architecture"), inputShape, numClasses);
        TrainingSettings training = TrainingSettings.read(s.section("training"));
        SettingsReader d = s.section("distillation");
        double temperature = d.positive("temperature");
        double alpha = d.fraction("alpha");
        boolean baseline = s.bool("baseline");
        return new StudentSettings(arch, training, temperature, alpha, baseline);
    }

    public KdLoss loss() {
        return new KdLoss(temperature, alpha);
    }
}
