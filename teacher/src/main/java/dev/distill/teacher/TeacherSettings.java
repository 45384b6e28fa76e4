package dev.distill.teacher;

import dev.distill.settings.SettingsReader;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;

/**
 * Settings of {@code kd.teacher} and {@code kd.soft-labels}: whether the teacher is trained here from an
 * architecture (on hard labels, by the same distributed trainer as the student) or loaded from a DL4J model
 * zip, and how labelling batches its inference.
 */
public record TeacherSettings(String source, String model, NetworkSpec architecture, TrainingSettings training,
                              int labelBatchSize, String compression) {

    public static TeacherSettings read(SettingsReader kd, int[] inputShape, int numClasses) {
        SettingsReader t = kd.section("teacher");
        String source = t.oneOf("source", "train", "load");
        String model = t.string("model");
        SettingsReader a = t.section("architecture");
        NetworkSpec arch = NetworkSpec.read(a, inputShape, numClasses);
        for (int i = 0; i < arch.layers().size(); i++) {
            var raw = a.config().getConfigList("layers").get(i);
            for (String key : new String[] {"quantise", "rank", "prune"}) {
                if (raw.hasPath(key)) {
                    a.over(raw, a.fullKey("layers") + "[" + i + "]").problem(key, "only student layers are compressed"
                            + " (kd.student.quantisation, kd.student.pruning, rank); remove it here");
                }
            }
        }
        TrainingSettings training = TrainingSettings.read(t.section("training"));
        if ("load".equals(source) && model.isBlank() && t.has("model")) {
            t.problem("model", "must name a DL4J model zip when kd.teacher.source = load");
        }
        SettingsReader sl = kd.section("soft-labels");
        int batch = sl.integer("batch-size", 1, 1 << 16);
        String compression = sl.oneOf("compression", "snappy", "zstd", "gzip", "uncompressed");
        return new TeacherSettings(source, model, arch, training, batch, compression);
    }

    public boolean trainedHere() {
        return "train".equals(source);
    }
}
