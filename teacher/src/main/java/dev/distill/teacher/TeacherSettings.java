package dev.distill.teacher;

import dev.distill.settings.SettingsReader;
import dev.distill.student.NetworkSpec;
import dev.distill.student.TrainingSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

import java.util.ArrayList;
import java.util.List;

/**
 * Settings of {@code kd.teacher} and {@code kd.soft-labels}: whether the teacher is trained here from an
 * architecture (on hard labels, by the same distributed trainer as the student) or loaded from a DL4J model
 * zip, and how labelling batches its inference and how many views of each training example it labels.
 */
public record TeacherSettings(String source, String model, NetworkSpec architecture, TrainingSettings training,
                              int labelBatchSize, String compression, String format, OnnxTeacher.Options onnx,
                              int topK, int views, List<Member> ensemble) {

    /** A further teacher of {@code kd.teacher.ensemble}: a model file, its format and (for ONNX) its options. */
    public record Member(String model, String format, OnnxTeacher.Options onnx) implements java.io.Serializable {
    }

    /** The keys an element of {@code kd.teacher.ensemble} may set. */
    private static final List<String> MEMBER_KEYS = List.of("model", "format", "onnx");

    public static TeacherSettings read(SettingsReader kd, int[] inputShape, int numClasses) {
        SettingsReader t = kd.section("teacher");
        String source = t.oneOf("source", "train", "load");
        String model = t.string("model");
        SettingsReader a = t.section("architecture");
        NetworkSpec arch = NetworkSpec.read(a, inputShape, numClasses);
        for (NetworkSpec.Element e : NetworkSpec.elements(a)) {
            var raw = e.config();
            for (String key : new String[] {"quantise", "rank", "prune"}) {
                if (e.isLayer() && raw.hasPath(key)) {
                    a.over(raw, e.key()).problem(key, "only student layers are compressed"
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
        OnnxTeacher.Options onnx = onnxOptions(t.section("onnx"));
        List<Member> ensemble = readEnsemble(t);
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
        return new TeacherSettings(source, model, arch, training, batch, compression, format, onnx, top ? k : 0, views,
                ensemble);
    }

    private static OnnxTeacher.Options onnxOptions(SettingsReader o) {
        int[] shape = o.intList("input-shape", 1).stream().mapToInt(Integer::intValue).toArray();
        boolean probabilities = "probabilities".equals(o.oneOf("output-type", "logits", "probabilities"));
        return new OnnxTeacher.Options(o.string("input").trim(), o.string("output").trim(), shape, probabilities);
    }

    /**
     * {@code kd.teacher.ensemble}: further teachers, each {@code { model = ..., format = ..., onnx { ... } }},
     * with {@code format} and {@code onnx} keys falling back to {@code kd.teacher}'s own.
     */
    private static List<Member> readEnsemble(SettingsReader t) {
        if (!t.has("ensemble")) {
            return List.of();
        }
        List<? extends Config> elements;
        try {
            elements = t.config().getConfigList("ensemble");
        } catch (ConfigException.WrongType e) {
            t.problem("ensemble", "must be a list of objects such as { model = \"other-teacher.onnx\" }");
            return List.of();
        }
        Config fallback = t.config().withOnlyPath("onnx").withFallback(t.config().withOnlyPath("format"));
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < elements.size(); i++) {
            Config raw = elements.get(i);
            String display = t.fullKey("ensemble") + "[" + i + "]";
            SettingsReader e = t.over(raw.withFallback(fallback), display);
            // Problems about what the element lacks are placed at the element, not at the defaults.
            SettingsReader own = t.over(raw, display);
            for (String key : raw.root().keySet()) {
                if (!MEMBER_KEYS.contains(key)) {
                    own.problem(key, "unknown key in a teacher of the ensemble; valid keys: " + String.join(", ", MEMBER_KEYS));
                }
            }
            if (raw.hasPath("onnx")) {
                for (String key : raw.getConfig("onnx").root().keySet()) {
                    if (!fallback.hasPath("onnx." + key)) {
                        own.problem("onnx." + key, "unknown key; valid keys: "
                                + String.join(", ", new java.util.TreeSet<>(fallback.getConfig("onnx").root().keySet())));
                    }
                }
            }
            if (!raw.hasPath("model")) {
                own.problem("model", "each teacher of kd.teacher.ensemble needs a model (a DL4J zip or an ONNX file)");
                continue;
            }
            String model = e.string("model");
            if (model.isBlank()) {
                e.problem("model", "must name a DL4J model zip or an ONNX file");
                continue;
            }
            String format = TeacherSource.formatOf(e.oneOf("format", "auto", "dl4j", "onnx"), model);
            members.add(new Member(model, format, onnxOptions(e.section("onnx"))));
        }
        return List.copyOf(members);
    }

    /**
     * How to open this teacher for a data set of {@code featureLength} features and {@code numClasses} classes:
     * with {@code kd.teacher.ensemble}, this teacher and those as one ensemble.
     */
    public TeacherSource source(String modelPath, int featureLength, int numClasses) {
        List<TeacherSource> others = ensemble.stream().map(m -> new TeacherSource(m.format(), m.model(), featureLength,
                numClasses, m.onnx())).toList();
        return new TeacherSource(trainedHere() ? "dl4j" : format, modelPath, featureLength, numClasses, onnx, others);
    }

    public boolean trainedHere() {
        return "train".equals(source);
    }
}
