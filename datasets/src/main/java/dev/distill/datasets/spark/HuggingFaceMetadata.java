package dev.distill.datasets.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.distill.datasets.DatasetSettings;
import org.apache.hadoop.conf.Configuration;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The class names a Hugging Face dataset stores in its Parquet files: the footer's key-value entry
 * {@code huggingface} holds JSON {@code {"info": {"features": {"label": {"_type": "ClassLabel", "names": [...]}}}}}
 * (the {@code datasets} library's layout). Read on the driver from the first file of the training source.
 */
final class HuggingFaceMetadata {
    static final String KEY = "huggingface";

    private HuggingFaceMetadata() {
    }

    /**
     * The names of the label column's classes in the first file of {@code path}, or empty when the file has no
     * such metadata. Names for another number of classes than {@code num-classes}, blank or repeated names are
     * an error naming the file.
     */
    static List<String> classNames(Configuration conf, DatasetSettings s, String path) {
        String file = CsvSource.files(conf, path).get(0);
        Map<String, String> kv;
        try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(
                org.apache.parquet.hadoop.util.HadoopInputFile.fromPath(new org.apache.hadoop.fs.Path(file), conf))) {
            kv = reader.getFooter().getFileMetaData().getKeyValueMetaData();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not a readable Parquet file (" + e.getMessage() + ")");
        }
        List<String> names = parse(kv.get(KEY), s.labelColumn(), file);
        if (!names.isEmpty() && names.size() != s.numClasses()) {
            throw new IllegalArgumentException(file + ": its Hugging Face metadata names " + names.size()
                    + " classes for column '" + s.labelColumn() + "' (" + String.join(", ",
                    names.subList(0, Math.min(6, names.size()))) + (names.size() > 6 ? ", ..." : "")
                    + ") but kd.dataset.num-classes = " + s.numClasses() + "; set num-classes = " + names.size());
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            if (names.get(i).isBlank() || !seen.add(names.get(i).strip())) {
                throw new IllegalArgumentException(file + ": its Hugging Face metadata gives class " + i + " the "
                        + (names.get(i).isBlank() ? "blank name" : "repeated name \"" + names.get(i) + "\"")
                        + "; set kd.dataset.class-names to name the classes");
            }
        }
        return names;
    }

    /**
     * Before any Spark job: the training file's class names fit {@code num-classes}, and a test file that names
     * its classes names the same ones in the same order (else its labels would be read as other classes).
     * Skipped when {@code kd.dataset.class-names} is set or the data have no labels.
     */
    static void check(Configuration conf, DatasetSettings s) {
        if (s.labelColumn().isBlank() || !s.classNames().isEmpty()) {
            return;
        }
        List<String> train = classNames(conf, s, s.train());
        if (s.hasTestSource()) {
            List<String> test = classNames(conf, s, s.test());
            if (!train.isEmpty() && !test.isEmpty() && !train.equals(test)) {
                throw new IllegalArgumentException(s.test() + ": its Hugging Face metadata names the classes " + test
                        + " but the training data's are " + train + "; the labels would mean other classes. Write both"
                        + " with the same class list, or set kd.dataset.class-names if the labels do agree");
            }
        }
    }

    /** The {@code names} of {@code column}'s ClassLabel feature in {@code json}; empty when absent. */
    static List<String> parse(String json, String column, String file) {
        if (json == null || json.isBlank()) {
            return List.of();
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": its '" + KEY + "' metadata is not JSON (" + e.getMessage()
                    + ")");
        }
        JsonNode names = root.path("info").path("features").path(column).path("names");
        if (!names.isArray()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        names.forEach(n -> out.add(n.asText()));
        return out;
    }
}
