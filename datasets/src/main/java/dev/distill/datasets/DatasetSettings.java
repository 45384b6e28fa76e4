package dev.distill.datasets;

import com.typesafe.config.Config;
import dev.distill.datasets.images.ImageDecoder;
import dev.distill.settings.SettingsReader;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Settings of {@code kd.dataset} (documented key by key in this module's {@code reference.conf}).
 * Built through {@link #read(SettingsReader)}, which records every problem instead of stopping at the first.
 */
public record DatasetSettings(
        String format,
        int numClasses,
        String train,
        String trainLabels,
        String test,
        String testLabels,
        double testFraction,
        long splitSeed,
        int maxTrainRows,
        int maxTestRows,
        String labelColumn,
        boolean csvHeader,
        String csvDelimiter,
        String featuresColumn,
        List<String> featureColumns,
        Normalisation.Method normalisation,
        double scaleMax,
        List<Integer> inputShape,
        int partitions,
        double labelledFraction,
        List<String> classNames,
        String imageColumn,
        ImageDecoder.Resize imageResize,
        boolean skipBadImages,
        boolean folderLabels,
        List<Double> channelMean,
        List<Double> channelStd) {

    public static final String DEFAULT_FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

    public static DatasetSettings read(SettingsReader root) {
        SettingsReader r = root.section("dataset");
        int before = r.problems().size();
        String format = r.oneOf("format", "idx", "csv", "parquet", "image-folder");
        boolean formatKnown = r.problems().size() == before;
        int numClasses = r.integer("num-classes", 2, 1_000_000);
        String train = r.string("train");
        String trainLabels = r.string("train-labels");
        String test = r.string("test");
        String testLabels = r.string("test-labels");
        double testFraction = r.numberIn("test-fraction", 0.0, 0.9);
        long splitSeed = r.integer("split-seed", 0, Integer.MAX_VALUE);
        int maxTrain = r.integer("max-train-rows", 0, Integer.MAX_VALUE);
        int maxTest = r.integer("max-test-rows", 0, Integer.MAX_VALUE);
        String labelColumn = r.string("label-column");
        SettingsReader csv = r.section("csv");
        boolean header = csv.bool("header");
        String delimiter = csv.string("delimiter");
        if (r.has("csv.delimiter") && delimiter.length() != 1) {
            csv.problem("delimiter", "must be a single character, for example \",\" or \";\"");
        }
        SettingsReader pq = r.section("parquet");
        String featuresColumn = pq.string("features-column");
        List<String> featureColumns = pq.stringList("feature-columns");
        String imageColumn = pq.string("image-column").strip();
        boolean images = "image-folder".equals(format) || "parquet".equals(format) && !imageColumn.isEmpty();
        SettingsReader norm = r.section("normalisation");
        String chosen = norm.oneOf("method", "auto", "none", "scale", "standardise", "channels");
        Normalisation.Method method = "auto".equals(chosen) ? (images ? Normalisation.Method.SCALE
                : defaultNormalisation(format)) : Normalisation.Method.valueOf(chosen.toUpperCase(java.util.Locale.ROOT));
        double scaleMax = norm.positive("scale-max");
        List<Integer> inputShape = r.intList("input-shape", 1);
        SettingsReader image = r.section("image");
        ImageDecoder.Resize resize = ImageDecoder.Resize.valueOf(image.oneOf("resize", "bilinear", "area", "nearest")
                .toUpperCase(java.util.Locale.ROOT));
        boolean skipBad = "skip".equals(image.oneOf("on-bad-image", "fail", "skip"));
        boolean folderLabels = "folders".equals(r.section("image-folder").oneOf("labels", "folders", "none"));
        List<Double> mean = norm.doubleList("mean");
        List<Double> std = norm.doubleList("std");
        int partitions = r.integer("partitions", 0, 100_000);

        if (train.isBlank() && r.has("train")) {
            r.problem("train", "must name the training data (a file or folder path, or a Hadoop URI)");
        }
        checkLocalPath(r, "train", train, format);
        if ("idx".equals(format)) {
            checkLocalPath(r, "train-labels", trainLabels, format);
            checkLocalPath(r, "test-labels", testLabels, format);
            if (test.isBlank() != testLabels.isBlank() && !testLabels.isBlank()) {
                r.problem("test-labels", "is set but kd.dataset.test is empty; set both or neither");
            }
        }
        checkLocalPath(r, "test", test, format);
        if (formatKnown) {   // an unknown format is reported once; its stand-in must not add problems of its own
            checkApplies(r, format, "idx", "train-labels", "test-labels");
            checkApplies(r, format, "csv", "csv.header", "csv.delimiter");
            checkApplies(r, format, "parquet", "parquet.features-column", "parquet.feature-columns",
                    "parquet.image-column");
        }
        if (formatKnown && "idx".equals(format) && r.setByUser("label-column")) {
            r.problem("label-column", "does not apply to format = idx (its labels come from kd.dataset.train-labels and"
                    + " test-labels); remove it");
        }
        if (formatKnown) {
            checkImages(r, format, images, inputShape, imageColumn);
        }
        checkChannels(r, method, inputShape, mean, std);
        if (r.setByUser("normalisation.scale-max") && method != Normalisation.Method.SCALE
                && method != Normalisation.Method.CHANNELS) {
            norm.problem("scale-max", "applies to normalisation.method = scale and channels only (the method here is "
                    + method.name().toLowerCase(java.util.Locale.ROOT) + "); remove it");
        }
        double labelled = r.has("labelled-fraction") ? r.numberIn("labelled-fraction", 0.0001, 1.0) : 1.0;
        List<String> classNames = classNames(r, numClasses);
        if (test.isBlank() && testFraction <= 0 && r.has("test-fraction")) {
            r.problem("test-fraction", "must be > 0 when kd.dataset.test is empty (the test split is held out from train)");
        }
        return new DatasetSettings(format, numClasses, train, trainLabels, test, testLabels, testFraction, splitSeed,
                maxTrain, maxTest, labelColumn, header, delimiter, featuresColumn, featureColumns, method, scaleMax,
                inputShape, partitions, labelled, classNames, imageColumn, resize, skipBad, folderLabels, mean, std);
    }

    /**
     * Image sources: the input shape must be [channels, height, width] with 1 or 3 channels (every image is
     * decoded and resized to it); keys of images or image folders set for other data are reported.
     */
    private static void checkImages(SettingsReader r, String format, boolean images, List<Integer> inputShape,
                                    String imageColumn) {
        boolean folder = "image-folder".equals(format);
        if (folder && r.setByUser("label-column")) {
            r.problem("label-column", "does not apply to format = image-folder (its labels are the class folders, see"
                    + " kd.dataset.image-folder.labels); remove it");
        }
        if (!folder && r.setByUser("image-folder.labels")) {
            r.problem("image-folder.labels", "applies to format = image-folder only (this job's format is " + format
                    + "); remove it");
        }
        if (!images) {
            for (String key : new String[] {"image.resize", "image.on-bad-image"}) {
                if (r.setByUser(key)) {
                    r.problem(key, "applies to images only (format = image-folder, or parquet with"
                            + " parquet.image-column set); remove it");
                }
            }
            return;
        }
        if (!imageColumn.isEmpty() && (r.setByUser("parquet.features-column") || r.setByUser("parquet.feature-columns"))) {
            r.problem("parquet.image-column", "is set together with parquet."
                    + (r.setByUser("parquet.features-column") ? "features-column" : "feature-columns")
                    + "; a table's features are either its encoded images or its numbers: remove one");
        }
        boolean shaped = inputShape.size() == 3 && (inputShape.get(0) == 1 || inputShape.get(0) == 3);
        if (!shaped) {
            r.problem("input-shape", "images are decoded and resized to [channels, height, width] with 1 (grey) or 3"
                    + " (RGB) channels; set it, for example [1, 28, 28] or [3, 32, 32]");
        }
    }

    /** {@code normalisation.mean} and {@code std}: for method = channels only, one value per channel or none. */
    private static void checkChannels(SettingsReader r, Normalisation.Method method, List<Integer> inputShape,
                                      List<Double> mean, List<Double> std) {
        SettingsReader norm = r.section("normalisation");
        if (method != Normalisation.Method.CHANNELS) {
            for (String key : new String[] {"mean", "std"}) {
                if (r.setByUser("normalisation." + key)) {
                    norm.problem(key, "applies to normalisation.method = channels only (the method here is "
                            + method.name().toLowerCase(java.util.Locale.ROOT) + "); remove it");
                }
            }
            return;
        }
        if (inputShape.size() != 3) {
            r.problem("normalisation.method", "channels needs kd.dataset.input-shape = [channels, height, width]"
                    + " (it is " + inputShape + ")");
            return;
        }
        int channels = inputShape.get(0);
        if (mean.isEmpty() != std.isEmpty()) {
            norm.problem(mean.isEmpty() ? "mean" : "std", "is empty but normalisation." + (mean.isEmpty() ? "std" : "mean")
                    + " is set; give both (one value per channel) or neither (fitted on the training split)");
            return;
        }
        for (var e : java.util.Map.of("mean", mean, "std", std).entrySet()) {
            if (!e.getValue().isEmpty() && e.getValue().size() != channels) {
                norm.problem(e.getKey(), e.getValue().size() + " values for " + channels + " channels (input-shape "
                        + inputShape + "); give one per channel, or [] to fit them on the training split");
            }
        }
        for (int c = 0; c < std.size(); c++) {
            if (!(std.get(c) > 0) || !Double.isFinite(std.get(c))) {
                norm.problem("std", "the value of channel " + c + " is " + std.get(c) + "; every std must be > 0");
            }
        }
    }

    /** True when the data are encoded images (an image folder, or a Parquet table with an image column). */
    public boolean images() {
        return "image-folder".equals(format) || "parquet".equals(format) && !imageColumn.isEmpty();
    }

    /**
     * {@code class-names}: empty, or one name per class in label order, none blank and no two alike (a report
     * that shows one name for two classes would mislead).
     */
    private static List<String> classNames(SettingsReader r, int numClasses) {
        List<String> names = r.stringList("class-names");
        if (names.isEmpty()) {
            return List.of();
        }
        if (names.size() != numClasses) {
            r.problem("class-names", names.size() + " names for num-classes = " + numClasses
                    + "; give one name per class, in label order (the name of label 0 first), or [] for the label"
                    + " numbers");
            return List.of();
        }
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            if (n.isBlank()) {
                r.problem("class-names", "the name of class " + i + " is blank; every class needs a name");
                return List.of();
            }
            Integer first = seen.putIfAbsent(n.strip(), i);   // "Bag" and "Bag " look alike in a report
            if (first != null) {
                r.problem("class-names", "\"" + n + "\" names both class " + first + " and class " + i
                        + "; the names must differ");
                return List.of();
            }
        }
        return List.copyOf(names);
    }

    /**
     * The normalisation of {@code method = auto}: IDX holds 8-bit pixels, scaled to [0, 1] by 255; CSV and
     * Parquet hold numbers of any range, standardised per feature with statistics of the training split.
     */
    public static Normalisation.Method defaultNormalisation(String format) {
        return "idx".equals(format) ? Normalisation.Method.SCALE : Normalisation.Method.STANDARDISE;
    }

    /** Keys of one format set in a job of another are reported: they would be silently ignored. */
    private static void checkApplies(SettingsReader r, String format, String owner, String... keys) {
        if (format.equals(owner)) {
            return;
        }
        for (String key : keys) {
            if (r.setByUser(key) && !blank(r, key)) {   // "" says "none": harmless under any format
                r.problem(key, "applies to format = " + owner + " only (this job's format is " + format + "); remove it");
            }
        }
    }

    private static boolean blank(SettingsReader r, String key) {
        var v = r.config().getValue(key);
        return v.valueType() == com.typesafe.config.ConfigValueType.STRING && ((String) v.unwrapped()).isBlank();
    }

    /** Local paths (no URI scheme, or file:) are checked now, so a typo fails before Spark starts. */
    private static void checkLocalPath(SettingsReader r, String key, String path, String format) {
        if (path == null || path.isBlank() || !r.has(key)) {
            return;
        }
        Path local = localPath(path);
        if (local == null || Files.exists(local)) {
            return;
        }
        if (isGlob(path) && !"idx".equals(format) && !"image-folder".equals(format)) {
            if (!globMatches(local)) {
                r.problem(key, "no file matches " + path + "; set kd.dataset." + key + " to an existing " + format
                        + " file, folder or glob");
            }
            return;
        }
        String hint = path.startsWith(DEFAULT_FASHION_MNIST)
                ? "; Fashion-MNIST is installed there by `apt-get install dataset-fashion-mnist`, or set kd.dataset."
                        + key + " to where your copy is"
                : "; set kd.dataset." + key + " to an existing " + ("idx".equals(format) ? "IDX file"
                        : "image-folder".equals(format) ? "folder of images" : format + " file or folder");
        r.problem(key, "no such file or folder: " + path + hint);
    }

    /** True when {@code path} holds glob characters ({@code * ? [ {}), as Hadoop reads them. */
    public static boolean isGlob(String path) {
        return path.matches(".*[*?\\[{].*");
    }

    /** True when the local glob {@code glob} matches at least one file. */
    public static boolean globMatches(Path glob) {
        try {
            org.apache.hadoop.fs.FileStatus[] m = org.apache.hadoop.fs.FileSystem.getLocal(
                    new org.apache.hadoop.conf.Configuration()).globStatus(new org.apache.hadoop.fs.Path(glob.toString()));
            return m != null && m.length > 0;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The local file-system path of {@code path}, or null when it names another file system (hdfs:, s3a:, ...). */
    public static Path localPath(String path) {
        if (path.startsWith("file:")) {
            // Not Path.of(URI): it refuses non-ASCII characters ("Bad escape"), which any file system accepts.
            try {
                java.net.URI uri = new java.net.URI(path);
                if (uri.getPath() != null) {
                    return Path.of(uri.getPath());   // percent-escapes decoded
                }
            } catch (java.net.URISyntaxException e) {
                // not a valid URI (a space, say): the text after the scheme and authority is the path
            }
            String rest = path.substring("file:".length());
            if (rest.startsWith("//")) {
                int slash = rest.indexOf('/', 2);
                rest = slash < 0 ? "/" : rest.substring(slash);
            }
            return Path.of(rest);
        }
        if (path.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            return null;
        }
        return Path.of(path);
    }

    /** These settings with {@code parquet.feature-columns} set to {@code columns}. */
    public DatasetSettings withFeatureColumns(List<String> columns) {
        return new DatasetSettings(format, numClasses, train, trainLabels, test, testLabels, testFraction, splitSeed,
                maxTrainRows, maxTestRows, labelColumn, csvHeader, csvDelimiter, featuresColumn, List.copyOf(columns),
                normalisation, scaleMax, inputShape, partitions, labelledFraction, classNames, imageColumn,
                imageResize, skipBadImages, folderLabels, channelMean, channelStd);
    }

    public boolean hasTestSource() {
        return !test.isBlank();
    }

    public static DatasetSettings from(Config config) {
        SettingsReader r = SettingsReader.of(config, "kd");
        DatasetSettings s = read(r);
        r.throwIfAny();
        return s;
    }
}
