package dev.distill.teacher;

import dev.distill.settings.SettingsReader;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;

/**
 * Settings of {@code kd.teacher} and {@code kd.soft-labels}: whether the teacher is trained here from an
 * architecture (on hard labels, by the same distributed trainer as the student) or loaded from a DL4J model
 * zip, and how labelling batches its inference and how many views of each training example it labels.
 */
public record TeacherSettings(String source, String model, NetworkSpec architecture, TrainingSettings training,
                              int labelBatchSize, String compression, String format, OnnxTeacher.Options onnx,
                              int topK, int views) {

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
            t.problem("model", "must name a DL4J model zip or an ONNX file when kd.teacher.source = load");
        }
        if ("train".equals(source)) {
            // A model named while the teacher is trained here would be silently ignored.
            for (String key : new String[] {"model", "onnx"}) {
                if (t.setByUser(key)) {
                    t.problem(key, "applies to kd.teacher.source = load only (this job trains its teacher from"
                            + " kd.teacher.architecture); set kd.teacher.source = load to use a trained model, or remove it");
                }
            }
        }
        String format = TeacherSource.formatOf(t.oneOf("format", "auto", "dl4j", "onnx"), model);
        if ("onnx".equals(format) && "train".equals(source) && !t.setByUser("model")) {
            t.problem("format", "an ONNX teacher is loaded, not trained here: set kd.teacher.source = load");
        }
        SettingsReader o = t.section("onnx");
        int[] shape = o.intList("input-shape", 1).stream().mapToInt(Integer::intValue).toArray();
        boolean probabilities = "probabilities".equals(o.oneOf("output-type", "logits", "probabilities"));
        OnnxTeacher.Options onnx = new OnnxTeacher.Options(o.string("input").trim(), o.string("output").trim(), shape,
                probabilities);
        SettingsReader sl = kd.section("soft-labels");
        int batch = sl.integer("batch-size", 1, 1 << 16);
        String compression = sl.oneOf("compression", "snappy", "zstd", "gzip", "uncompressed");
        boolean top = "top-k".equals(sl.oneOf("store", "full", "top-k"));
        int k = sl.integer("k", 1, 1 << 16);
        if (top && k >= numClasses && numClasses > 0 && sl.has("k")) {
            sl.problem("k", "must be below kd.dataset.num-classes (" + numClasses + ") to store fewer logits than"
                    + " store = full");
        }
        int views = sl.has("views") ? sl.integer("views", 1, 1000) : 1;
        if (views > 1 && top) {
            sl.problem("views", "stored views keep every logit: set kd.soft-labels.store = full, or views = 1");
        }
        return new TeacherSettings(source, model, arch, training, batch, compression, format, onnx, top ? k : 0, views);
    }

    /** How to open this teacher for a data set of {@code featureLength} features and {@code numClasses} classes. */
    public TeacherSource source(String modelPath, int featureLength, int numClasses) {
        return new TeacherSource(trainedHere() ? "dl4j" : format, modelPath, featureLength, numClasses, onnx);
    }

    public boolean trainedHere() {
        return "train".equals(source);
    }
}
