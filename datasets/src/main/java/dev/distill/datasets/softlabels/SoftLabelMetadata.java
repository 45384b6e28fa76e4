package dev.distill.datasets.softlabels;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The footer key-value metadata of a soft-label Parquet file. Keys are prefixed {@code distill.} so they do
 * not clash with other writers'. {@code fromFooter} rejects a file whose schema version is not ours.
 *
 * <p>{@code dataKey} identifies the data set split the soft labels were made from (see
 * {@code DatasetLoader.dataKey}): the rows hold no features, so a reader joins them by id with that split and
 * must know it is the same one.
 */
public record SoftLabelMetadata(int schemaVersion, String teacherId, String teacherSha256, int numClasses,
                                int[] inputShape, String normalisation, String dataKey, String createdAt, int topK,
                                int views, String augmentation, String ensemble)
        implements java.io.Serializable {

    /** With views, from one teacher. */
    public SoftLabelMetadata(int schemaVersion, String teacherId, String teacherSha256, int numClasses, int[] inputShape,
                             String normalisation, String dataKey, String createdAt, int topK, int views,
                             String augmentation) {
        this(schemaVersion, teacherId, teacherSha256, numClasses, inputShape, normalisation, dataKey, createdAt, topK,
                views, augmentation, "");
    }

    /** Without stored views. */
    public SoftLabelMetadata(int schemaVersion, String teacherId, String teacherSha256, int numClasses, int[] inputShape,
                             String normalisation, String dataKey, String createdAt, int topK) {
        this(schemaVersion, teacherId, teacherSha256, numClasses, inputShape, normalisation, dataKey, createdAt, topK,
                1, "");
    }

    /** Full logits ({@code teacher_logits}). */
    public SoftLabelMetadata(int schemaVersion, String teacherId, String teacherSha256, int numClasses, int[] inputShape,
                             String normalisation, String dataKey, String createdAt) {
        this(schemaVersion, teacherId, teacherSha256, numClasses, inputShape, normalisation, dataKey, createdAt, 0);
    }

    /** The same with the teacher's k largest logits only ({@code topk_index}, {@code topk_logit}, {@code logsumexp}). */
    public SoftLabelMetadata withTopK(int k) {
        return new SoftLabelMetadata(schemaVersion, teacherId, teacherSha256, numClasses, inputShape, normalisation,
                dataKey, createdAt, k, views, augmentation, ensemble);
    }

    /**
     * The same with {@code n} views per example (columns {@code view_boxes}, {@code view_logits}), drawn with
     * {@code augmentation} (its settings as text, recorded in the footer); n = 1 for none.
     */
    public SoftLabelMetadata withViews(int n, String augmentation) {
        return new SoftLabelMetadata(schemaVersion, teacherId, teacherSha256, numClasses, inputShape, normalisation,
                dataKey, createdAt, topK, n, n > 1 ? augmentation : "", ensemble);
    }

    /**
     * The same labelled by an ensemble of teachers, {@code members} naming each model and its SHA-256
     * ({@code "a.zip sha256:…; b.onnx sha256:…"}, footer {@code distill.ensemble}); "" for one teacher.
     */
    public SoftLabelMetadata withEnsemble(String members) {
        return new SoftLabelMetadata(schemaVersion, teacherId, teacherSha256, numClasses, inputShape, normalisation,
                dataKey, createdAt, topK, views, augmentation, members);
    }

    /** True when every row holds several stored views. */
    public boolean hasViews() {
        return views > 1;
    }

    /**
     * Version 3: optional stored views ({@code view_boxes}, {@code view_logits}; footer {@code distill.views},
     * {@code distill.augmentation}). Version 2: rows keyed by id without the features (version 1 repeated every
     * row's features, which cost most of the labelling time for a cheap teacher and most of the disk); it is
     * read as version 3 without views.
     */
    public static final int SCHEMA_VERSION = 3;
    /** The oldest version this build reads. */
    static final int OLDEST_READ = 2;
    static final String PREFIX = "distill.";

    public int featureLength() {
        int n = 1;
        for (int d : inputShape) {
            n *= d;
        }
        return n;
    }

    public Map<String, String> toFooter() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(PREFIX + "schema_version", Integer.toString(schemaVersion));
        m.put(PREFIX + "teacher_id", teacherId);
        m.put(PREFIX + "teacher_sha256", teacherSha256);
        m.put(PREFIX + "num_classes", Integer.toString(numClasses));
        m.put(PREFIX + "input_shape", joinShape(inputShape));
        m.put(PREFIX + "normalisation", normalisation);
        m.put(PREFIX + "data_key", dataKey);
        m.put(PREFIX + "created_at", createdAt);
        m.put(PREFIX + "store", topK > 0 ? "top-k" : "full");
        if (topK > 0) {
            m.put(PREFIX + "top_k", Integer.toString(topK));
        }
        if (views > 1) {
            m.put(PREFIX + "views", Integer.toString(views));
            m.put(PREFIX + "augmentation", augmentation);
        }
        if (!ensemble.isEmpty()) {
            m.put(PREFIX + "ensemble", ensemble);
        }
        return m;
    }

    public static SoftLabelMetadata fromFooter(Map<String, String> m, String file) {
        String version = m.get(PREFIX + "schema_version");
        if (version == null) {
            throw new IllegalArgumentException(file + ": not a soft-label file (no " + PREFIX
                    + "schema_version in its Parquet metadata); write soft labels with `distill label`");
        }
        int v = Integer.parseInt(version);
        if (v < OLDEST_READ || v > SCHEMA_VERSION) {
            throw new IllegalArgumentException(file + ": soft-label schema version " + v
                    + " is not supported; this build reads versions " + OLDEST_READ + " to " + SCHEMA_VERSION
                    + (v < OLDEST_READ ? " (rerun `distill label <job.conf>` to rewrite them)" : ""));
        }
        return new SoftLabelMetadata(v, m.getOrDefault(PREFIX + "teacher_id", ""),
                m.getOrDefault(PREFIX + "teacher_sha256", ""),
                Integer.parseInt(m.getOrDefault(PREFIX + "num_classes", "0")),
                parseShape(m.getOrDefault(PREFIX + "input_shape", "")),
                m.getOrDefault(PREFIX + "normalisation", ""), m.getOrDefault(PREFIX + "data_key", ""),
                m.getOrDefault(PREFIX + "created_at", ""),
                Integer.parseInt(m.getOrDefault(PREFIX + "top_k", "0")),
                Integer.parseInt(m.getOrDefault(PREFIX + "views", "1")), m.getOrDefault(PREFIX + "augmentation", ""),
                m.getOrDefault(PREFIX + "ensemble", ""));
    }

    static String joinShape(int[] shape) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : "x").append(shape[i]);
        }
        return b.toString();
    }

    static int[] parseShape(String s) {
        if (s.isEmpty()) {
            return new int[0];
        }
        return Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray();
    }

    /** Same content, ignoring creation time. */
    public boolean sameSource(SoftLabelMetadata o) {
        return schemaVersion == o.schemaVersion && teacherSha256.equals(o.teacherSha256) && numClasses == o.numClasses
                && topK == o.topK && views == o.views && augmentation.equals(o.augmentation) && ensemble.equals(o.ensemble)
                && Arrays.equals(inputShape, o.inputShape) && normalisation.equals(o.normalisation)
                && dataKey.equals(o.dataKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SoftLabelMetadata m && sameSource(m) && teacherId.equals(m.teacherId)
                && createdAt.equals(m.createdAt);
    }

    @Override
    public int hashCode() {
        return teacherSha256.hashCode() * 31 + numClasses;
    }

    @Override
    public String toString() {
        return toFooter().toString();
    }
}
