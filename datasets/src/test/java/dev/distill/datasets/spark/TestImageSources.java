package dev.distill.datasets.spark;

import com.typesafe.config.ConfigFactory;
import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.images.ImageFiles;
import dev.distill.settings.SettingsException;
import dev.distill.testing.LocalSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Image folders and Hugging Face style Parquet, written here from seeded pixels, read back through the loader. */
class TestImageSources {
    static SparkSession spark;
    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        spark = LocalSpark.start();
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** {@code n} grey 4x5 images with random pixels, label i mod classes. */
    private static List<ImageFiles.Image> images(int n, int classes, long seed) {
        Random r = new Random(seed);
        List<ImageFiles.Image> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] px = new float[20];
            for (int j = 0; j < px.length; j++) {
                px[j] = r.nextInt(256);
            }
            out.add(new ImageFiles.Image(px, 1, 4, 5, i % classes));
        }
        return out;
    }

    private static DatasetSettings settings(String hocon) {
        return DatasetSettings.from(ConfigFactory.parseString(hocon).withFallback(ConfigFactory.defaultReference())
                .resolve());
    }

    private String folderJob(Path train, Path test, String extra) {
        return "kd.dataset { format = image-folder, train = \"" + train + "\", test = \"" + test + "\", train-labels = \"\","
                + " test-labels = \"\", num-classes = 3, input-shape = [1, 4, 5], partitions = 3 " + extra + " }";
    }

    /** The pixels of each distinct image (as a string key) mapped to its label. */
    private static Map<String, Integer> byPixels(List<ImageFiles.Image> images, float divisor) {
        Map<String, Integer> m = new HashMap<>();
        for (ImageFiles.Image im : images) {
            float[] px = im.pixels().clone();
            for (int j = 0; j < px.length; j++) {
                px[j] /= divisor;
            }
            m.put(java.util.Arrays.toString(px), im.label());
        }
        return m;
    }

    private static String key(Row r) {
        List<Float> xs = r.getList(1);
        float[] f = new float[xs.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = xs.get(i);
        }
        return java.util.Arrays.toString(f);
    }

    @Test
    void anImageFolderReadsEveryImageWithItsClassAndStableIds() throws Exception {
        List<ImageFiles.Image> train = images(30, 3, 1);
        List<ImageFiles.Image> test = images(9, 3, 2);
        List<String> names = List.of("cat", "dog", "owl");
        ImageFiles.writeFolder(dir.resolve("train"), train, names, "png");
        ImageFiles.writeFolder(dir.resolve("test"), test, names, "png");
        // Nesting below a class folder, a note that is not an image, and hidden files are all handled.
        Path nested = Files.createDirectories(dir.resolve("train/2-owl/more/deeper"));
        Files.move(dir.resolve("train/2-owl/00002.png"), nested.resolve("00002.png"));
        Files.writeString(dir.resolve("train/0-cat/README.txt"), "not an image");
        Files.write(dir.resolve("train/1-dog/.hidden.png"), new byte[] {1, 2, 3});
        Files.createDirectories(dir.resolve("train/_tmp"));
        DatasetSettings s = settings(folderJob(dir.resolve("train"), dir.resolve("test"), ""));
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s).cache();
        assertThat(splits.train().count() + splits.test().count()).isEqualTo(39);   // decoded once, as a job does
        assertThat(splits.inputShape()).containsExactly(1, 4, 5);
        List<Row> rows = splits.train().orderBy("id").collectAsList();
        assertThat(rows).hasSize(30);
        Map<String, Integer> expected = byPixels(train, 255f);
        for (Row row : rows) {
            assertThat(row.getInt(2)).isEqualTo(expected.get(key(row)));
        }
        // The id is the hash of the path below the folder: the nested image keeps its own.
        assertThat(rows.stream().map(r -> r.getLong(0)).toList())
                .contains(dev.distill.datasets.images.ImageFolder.pathHash("2-owl/more/deeper/00002.png"));
        assertThat(byPixels(test, 255f).keySet()).containsAll(
                splits.test().collectAsList().stream().map(TestImageSources::key).toList());
        assertThat(splits.images().decoded().value()).isEqualTo(39);
        assertThat(splits.images().skipped().value()).isZero();
        assertThat(DatasetLoader.classNames(spark, s)).containsExactly("0-cat", "1-dog", "2-owl");
        // The first ids sample every class.
        DatasetSettings few = settings(folderJob(dir.resolve("train"), dir.resolve("test"), ", max-train-rows = 9"));
        List<Row> first = DatasetLoader.load(spark, few).train().collectAsList();
        assertThat(first).hasSize(9);
        assertThat(new HashSet<>(first.stream().map(r -> r.getInt(2)).toList())).hasSize(3);
    }

    /** Ids are fixed forever: soft labels made by an earlier release join by them. */
    @Test
    void pathHashesArePinned() {
        assertThat(dev.distill.datasets.images.ImageFolder.pathHash("0-cat/00000.png")).isEqualTo(PINNED_CAT);
        assertThat(dev.distill.datasets.images.ImageFolder.pathHash("")).isEqualTo(0x63b0c44298fc1c14L);  // SHA-256("")
    }

    @Test
    void addingAnImageChangesNoOtherIdAndATestFolderMapsClassesByName() throws Exception {
        List<ImageFiles.Image> train = images(12, 3, 1);
        ImageFiles.writeFolder(dir.resolve("train"), train, List.of("a", "b", "c"), "png");
        // The test folder holds classes 1 and 2 only: its labels come from the training folder's names.
        ImageFiles.writeFolder(dir.resolve("test"), images(6, 3, 2), List.of("a", "b", "c"), "png");
        Files.walk(dir.resolve("test/0-a")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        DatasetSettings s = settings(folderJob(dir.resolve("train"), dir.resolve("test"), ""));
        DatasetLoader.Splits before = DatasetLoader.load(spark, s).cache();
        Map<Long, String> ids = new HashMap<>();
        before.train().collectAsList().forEach(r -> ids.put(r.getLong(0), key(r)));
        assertThat(before.test().collectAsList()).extracting(r -> r.getInt(2)).containsOnly(1, 2).hasSize(4);
        Files.write(dir.resolve("train/1-b/extra.png"), ImageFiles.encode(images(1, 1, 7).get(0), "png"));
        Map<Long, String> after = new HashMap<>();
        DatasetLoader.load(spark, s).train().collectAsList().forEach(r -> after.put(r.getLong(0), key(r)));
        assertThat(after).hasSize(13).containsAllEntriesOf(ids);
    }

    @Test
    void theDataKeyFollowsTheListing() throws Exception {
        ImageFiles.writeFolder(dir.resolve("train"), images(12, 3, 1), List.of("a", "b", "c"), "png");
        DatasetSettings s = settings("kd.dataset { format = image-folder, train = \"" + dir.resolve("train") + "\","
                + " test = \"\", train-labels = \"\", test-labels = \"\", num-classes = 3, input-shape = [1, 4, 5] }");
        String before = DatasetLoader.dataKey(spark, s, "train");
        assertThat(DatasetLoader.dataKey(spark, s, "train")).isEqualTo(before);
        // A rename keeps every byte but moves an image to another class: another data set.
        Files.move(dir.resolve("train/0-a/00000.png"), dir.resolve("train/1-b/00000.png"));
        assertThat(DatasetLoader.dataKey(spark, s, "train")).isNotEqualTo(before);
    }

    @Test
    void aFolderThatDoesNotFitIsNamedWithWhatWouldBeValid() throws Exception {
        ImageFiles.writeFolder(dir.resolve("train"), images(6, 3, 1), List.of("a", "b", "c"), "png");
        ImageFiles.writeFolder(dir.resolve("test"), images(4, 4, 2), List.of("a", "b", "c", "d"), "png");
        assertThatThrownBy(() -> DatasetLoader.load(spark, settings(folderJob(dir.resolve("train"), dir.resolve("test"),
                ""))))
                .hasMessage(dir.resolve("test") + "/3-d is not a class of the training folder, whose classes are 0-a,"
                        + " 1-b, 2-c; the test folder's class folders must be among them");
        DatasetSettings four = settings(folderJob(dir.resolve("test"), dir.resolve("test"), ", num-classes = 4"));
        assertThat(DatasetLoader.load(spark, four).train().count()).isEqualTo(4);
        assertThatThrownBy(() -> DatasetLoader.load(spark, settings(folderJob(dir.resolve("train"), dir.resolve("train"),
                ", num-classes = 5"))))
                .hasMessage(dir.resolve("train") + " has 3 class folders (0-a, 1-b, 2-c) but kd.dataset.num-classes = 5;"
                        + " set num-classes = 3");
        Files.write(dir.resolve("train/stray.png"), ImageFiles.encode(images(1, 1, 3).get(0), "png"));
        assertThatThrownBy(() -> DatasetLoader.load(spark, settings(folderJob(dir.resolve("train"), dir.resolve("train"),
                ""))))
                .hasMessage(dir.resolve("train") + "/stray.png lies directly in the root folder; with"
                        + " kd.dataset.image-folder.labels = folders every image lies in the folder of its class (or set"
                        + " labels = none for unlabelled images)");
    }

    @Test
    void unlabelledFoldersGiveRowsWithoutLabels() throws Exception {
        List<ImageFiles.Image> all = images(8, 1, 5);
        List<ImageFiles.Image> unlabelled = all.stream().map(i -> new ImageFiles.Image(i.pixels(), 1, 4, 5, -1)).toList();
        ImageFiles.writeFolder(dir.resolve("pool"), unlabelled, List.of(), "png");
        Files.createDirectories(dir.resolve("pool/sub"));
        Files.move(dir.resolve("pool/00001.png"), dir.resolve("pool/sub/00001.png"));
        DatasetSettings s = settings("kd.dataset { format = image-folder, train = \"" + dir.resolve("pool") + "\","
                + " test = \"\", test-fraction = 0.25, train-labels = \"\", test-labels = \"\", num-classes = 3,"
                + " input-shape = [1, 4, 5], image-folder.labels = none }");
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s);
        List<Row> rows = new ArrayList<>(splits.train().collectAsList());
        rows.addAll(splits.test().collectAsList());
        assertThat(rows).hasSize(8);
        assertThat(rows).allMatch(r -> r.isNullAt(2));
        assertThat(DatasetLoader.classNames(spark, s)).isEmpty();
        // A labelled test folder keeps its class folders: evaluation needs labels, and they name the classes.
        ImageFiles.writeFolder(dir.resolve("test"), images(6, 3, 2), List.of("x", "y", "z"), "png");
        DatasetSettings withTest = settings("kd.dataset { format = image-folder, train = \"" + dir.resolve("pool")
                + "\", test = \"" + dir.resolve("test") + "\", train-labels = \"\", test-labels = \"\", num-classes = 3,"
                + " input-shape = [1, 4, 5], image-folder.labels = none }");
        DatasetLoader.Splits both = DatasetLoader.load(spark, withTest);
        assertThat(both.train().collectAsList()).hasSize(8).allMatch(r -> r.isNullAt(2));
        assertThat(both.test().collectAsList()).extracting(r -> r.getInt(2)).containsExactlyInAnyOrder(0, 1, 2, 0, 1, 2);
        assertThat(DatasetLoader.classNames(spark, withTest)).containsExactly("0-x", "1-y", "2-z");
    }

    @Test
    void anUnreadableImageIsNamedOrSkippedAndCounted() throws Exception {
        ImageFiles.writeFolder(dir.resolve("train"), images(6, 3, 1), List.of("a", "b", "c"), "png");
        Path bad = dir.resolve("train/1-b/broken.png");
        Files.writeString(bad, "this is not a PNG");
        assertThatThrownBy(() -> DatasetLoader.load(spark, settings(folderJob(dir.resolve("train"), dir.resolve("train"),
                ""))).train().count())
                .rootCause().hasMessage(bad + ": not an image the JDK can read (PNG, JPEG, BMP or GIF; 17 bytes); fix"
                        + " or remove it, or set kd.dataset.image.on-bad-image = skip to leave unreadable images out");
        DatasetLoader.Splits skipped = DatasetLoader.load(spark, settings(folderJob(dir.resolve("train"),
                dir.resolve("train"), ", image.on-bad-image = skip"))).cache();
        assertThat(skipped.train().count()).isEqualTo(6);
        assertThat(skipped.test().count()).isEqualTo(6);
        assertThat(skipped.images().skipped().value()).isEqualTo(2);   // once in each split
        assertThat(skipped.images().describe()).startsWith("decoded 12 images (")
                .endsWith(" images/s per core), skipped 2 unreadable (kd.dataset.image.on-bad-image = skip; each named"
                        + " in the executor log)");
    }

    @Test
    void imagesAreResizedAndConvertedToTheInputShape() throws Exception {
        List<ImageFiles.Image> rgb = new ArrayList<>();
        Random r = new Random(9);
        for (int i = 0; i < 4; i++) {
            float[] px = new float[3 * 8 * 10];
            for (int j = 0; j < px.length; j++) {
                px[j] = r.nextInt(256);
            }
            rgb.add(new ImageFiles.Image(px, 3, 8, 10, i % 2));
        }
        ImageFiles.writeFolder(dir.resolve("rgb"), rgb, List.of("x", "y"), "png");
        DatasetSettings s = settings("kd.dataset { format = image-folder, train = \"" + dir.resolve("rgb") + "\","
                + " test = \"" + dir.resolve("rgb") + "\", train-labels = \"\", test-labels = \"\", num-classes = 2,"
                + " input-shape = [3, 4, 5], image.resize = area, normalisation.method = none }");
        List<Row> rows = DatasetLoader.load(spark, s).test().collectAsList();
        Map<String, Integer> expected = new HashMap<>();
        for (ImageFiles.Image im : rgb) {   // 2x2 block means of each channel
            float[] small = new float[3 * 4 * 5];
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 4; y++) {
                    for (int x = 0; x < 5; x++) {
                        float sum = 0;
                        for (int dy = 0; dy < 2; dy++) {
                            for (int dx = 0; dx < 2; dx++) {
                                sum += im.pixels()[c * 80 + (2 * y + dy) * 10 + 2 * x + dx];
                            }
                        }
                        small[c * 20 + y * 5 + x] = sum / 4;
                    }
                }
            }
            expected.put(java.util.Arrays.toString(small), im.label());
        }
        assertThat(rows).hasSize(4);
        for (Row row : rows) {
            assertThat(expected).containsEntry(key(row), row.getInt(2));
        }
    }

    @Test
    void channelStatisticsAreFittedOnTheTrainingImages() throws Exception {
        List<ImageFiles.Image> imgs = images(6, 3, 4);
        ImageFiles.writeFolder(dir.resolve("train"), imgs, List.of("a", "b", "c"), "png");
        DatasetSettings s = settings(folderJob(dir.resolve("train"), dir.resolve("train"),
                ", normalisation.method = channels"));
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s).cache();
        assertThat(splits.test().count()).isEqualTo(6);
        assertThat(splits.images().decoded().value()).isEqualTo(12);   // the fit did not decode them again
        double sum = 0;
        double squares = 0;
        for (ImageFiles.Image im : imgs) {
            for (float v : im.pixels()) {
                sum += v / 255.0;
                squares += (v / 255.0) * (v / 255.0);
            }
        }
        double mean = sum / 120;
        double std = Math.sqrt(squares / 120 - mean * mean);
        Map<String, Object> fitted = splits.normalisation().toMap();
        assertThat(((float[]) fitted.get("mean"))[0]).isCloseTo((float) mean, org.assertj.core.api.Assertions.within(1e-5f));
        assertThat(((float[]) fitted.get("std"))[0]).isCloseTo((float) std, org.assertj.core.api.Assertions.within(1e-5f));
        double all = 0;
        for (Row r : splits.train().collectAsList()) {
            List<Float> xs = r.getList(1);
            for (float v : xs) {
                all += v;
            }
        }
        assertThat(all / 120).isCloseTo(0.0, org.assertj.core.api.Assertions.within(1e-4));
    }

    @Test
    void huggingFaceParquetReadsItsImagesAndClassNames() throws Exception {
        List<ImageFiles.Image> train = images(20, 3, 1);
        Path file = dir.resolve("train.parquet");
        ImageFiles.writeHuggingFaceParquet(file, train, List.of("T-shirt/top", "Trouser", "Bag"), "png");
        DatasetSettings s = settings("kd.dataset { format = parquet, parquet.image-column = image, train = \"" + file
                + "\", test = \"" + file + "\", num-classes = 3, input-shape = [1, 4, 5], max-test-rows = 5 }");
        DatasetLoader.Splits splits = DatasetLoader.load(spark, s).cache();
        assertThat(splits.train().count()).isEqualTo(20);
        List<Row> rows = splits.train().orderBy("id").collectAsList();
        for (int i = 0; i < 20; i++) {   // ids are row positions
            assertThat(rows.get(i).getLong(0)).isEqualTo(i);
            assertThat(key(rows.get(i))).isEqualTo(byPixelsKey(train.get(i)));
            assertThat(rows.get(i).getInt(2)).isEqualTo(i % 3);
        }
        assertThat(splits.test().count()).isEqualTo(5);
        assertThat(splits.images().decoded().value()).isEqualTo(25);   // rows past max-test-rows are not decoded
        assertThat(DatasetLoader.classNames(spark, s)).containsExactly("T-shirt/top", "Trouser", "Bag");
        assertThatThrownBy(() -> DatasetLoader.load(spark, settings("kd.dataset { format = parquet, parquet.image-column"
                + " = image, train = \"" + file + "\", test = \"\", num-classes = 4, input-shape = [1, 4, 5] }")))
                .hasMessage(file + ": its Hugging Face metadata names 3 classes for column 'label' (T-shirt/top,"
                        + " Trouser, Bag) but kd.dataset.num-classes = 4; set num-classes = 3");
        Path other = dir.resolve("test.parquet");
        ImageFiles.writeHuggingFaceParquet(other, train, List.of("Trouser", "T-shirt/top", "Bag"), "png");
        assertThatThrownBy(() -> DatasetLoader.load(spark, settings("kd.dataset { format = parquet, parquet.image-column"
                + " = image, train = \"" + file + "\", test = \"" + other + "\", num-classes = 3, input-shape = [1, 4, 5] }")))
                .hasMessage(other + ": its Hugging Face metadata names the classes [Trouser, T-shirt/top, Bag] but the"
                        + " training data's are [T-shirt/top, Trouser, Bag]; the labels would mean other classes. Write"
                        + " both with the same class list, or set kd.dataset.class-names if the labels do agree");
        assertThatThrownBy(() -> DatasetLoader.load(spark, settings("kd.dataset { format = parquet, parquet.image-column"
                + " = picture, train = \"" + file + "\", test = \"\", num-classes = 3, input-shape = [1, 4, 5] }")))
                .hasMessage(file + ": no column 'picture' (kd.dataset.parquet.image-column); the data has 2 columns:"
                        + " image, label");
    }

    /** The first 8 bytes of SHA-256("0-cat/00000.png"), sign bit cleared, computed by Python's hashlib. */
    private static final long PINNED_CAT = 0x43242c84303e167bL;

    private static String byPixelsKey(ImageFiles.Image im) {
        float[] px = im.pixels().clone();
        for (int j = 0; j < px.length; j++) {
            px[j] /= 255f;
        }
        return java.util.Arrays.toString(px);
    }

    @Test
    void aBinaryColumnOfEncodedImagesAndABadRowAreNamed() throws Exception {
        List<ImageFiles.Image> imgs = images(5, 2, 1);
        List<Row> raw = new ArrayList<>();
        for (int i = 0; i < imgs.size(); i++) {
            byte[] png = i == 3 ? "garbage".getBytes(java.nio.charset.StandardCharsets.US_ASCII)
                    : ImageFiles.encode(imgs.get(i), "png");
            raw.add(org.apache.spark.sql.RowFactory.create(png, imgs.get(i).label()));
        }
        var schema = new org.apache.spark.sql.types.StructType()
                .add("png", org.apache.spark.sql.types.DataTypes.BinaryType)
                .add("label", org.apache.spark.sql.types.DataTypes.IntegerType);
        Path out = dir.resolve("binary");
        spark.createDataFrame(raw, schema).coalesce(1).write().parquet(out.toString());
        String job = "kd.dataset { format = parquet, parquet.image-column = png, train = \"" + out + "\", test = \"\","
                + " test-fraction = 0.2, num-classes = 2, input-shape = [1, 4, 5]";
        assertThatThrownBy(() -> {
            DatasetLoader.Splits sp = DatasetLoader.load(spark, settings(job + " }"));
            sp.train().count();
            sp.test().count();
        }).rootCause().hasMessageMatching(".*part-00000.*\\.parquet: row 3: not an image the JDK can read \\(PNG, JPEG,"
                + " BMP or GIF; 7 bytes\\); fix or remove it, or set kd.dataset.image.on-bad-image = skip to leave"
                + " unreadable images out");
        DatasetLoader.Splits sp = DatasetLoader.load(spark, settings(job + ", image.on-bad-image = skip }")).cache();
        assertThat(sp.train().count() + sp.test().count()).isEqualTo(4);
        assertThat(sp.images().skipped().value()).isEqualTo(1);
    }

    @Test
    void imageSettingsThatCannotWorkAreConfigurationErrors() {
        assertThatThrownBy(() -> settings("kd.dataset { format = image-folder, train = \"" + dir + "\", train-labels ="
                + " \"\", test-labels = \"\", test = \"\" }"))
                .isInstanceOf(SettingsException.class)
                .hasMessageContaining("kd.dataset.input-shape = []: images are decoded and resized to [channels, height,"
                        + " width] with 1 (grey) or 3 (RGB) channels; set it, for example [1, 28, 28] or [3, 32, 32]");
        assertThatThrownBy(() -> settings("kd.dataset { image.resize = area, image-folder.labels = none }"))
                .hasMessageContaining("kd.dataset.image.resize = \"area\": applies to images only (format = image-folder, or"
                        + " parquet with parquet.image-column set); remove it")
                .hasMessageContaining("kd.dataset.image-folder.labels = \"none\": applies to format = image-folder only (this"
                        + " job's format is idx); remove it");
        assertThatThrownBy(() -> settings("kd.dataset { format = parquet, train = \"" + dir + "\", test = \"\","
                + " train-labels = \"\", test-labels = \"\", parquet { image-column = image, features-column = f },"
                + " input-shape = [2, 4, 4] }"))
                .hasMessageContaining("kd.dataset.parquet.image-column = \"image\": is set together with parquet.features-column; a"
                        + " table's features are either its encoded images or its numbers: remove one")
                .hasMessageContaining("kd.dataset.input-shape = [2,4,4]: images are decoded");
        assertThatThrownBy(() -> settings("kd.dataset { input-shape = [3, 8, 8], normalisation { method = channels,"
                + " mean = [0.5, 0.5], std = [0.2, 0.2, 0] } }"))
                .hasMessageContaining("kd.dataset.normalisation.mean = [0.5,0.5]: 2 values for 3 channels (input-shape [3, 8, 8]);"
                        + " give one per channel, or [] to fit them on the training split")
                .hasMessageContaining("kd.dataset.normalisation.std = [0.2,0.2,0]: the value of channel 2 is 0.0; every std must be > 0");
        assertThatThrownBy(() -> settings("kd.dataset { format = image-folder, train = \"" + dir + "\", train-labels ="
                + " \"\", test-labels = \"\", test = \"\", input-shape = [1, 2, 2], parquet.image-column = image }"))
                .hasMessageContaining("kd.dataset.parquet.image-column = \"image\": applies to format = parquet only (this"
                        + " job's format is image-folder); remove it");
        assertThat(settings("kd.dataset { input-shape = [3, 8, 8], normalisation { method = channels, scale-max = 1 } }")
                .scaleMax()).isEqualTo(1.0);
        assertThatThrownBy(() -> settings("kd.dataset { normalisation { method = scale, mean = [0.5] } }"))
                .hasMessageContaining("kd.dataset.normalisation.mean = [0.5]: applies to normalisation.method = channels only"
                        + " (the method here is scale); remove it");
        assertThatThrownBy(() -> settings("kd.dataset { format = image-folder, train = \"" + dir.resolve("nope")
                + "\", train-labels = \"\", test-labels = \"\", test = \"\", input-shape = [1, 2, 2] }"))
                .hasMessageContaining("no such file or folder: " + dir.resolve("nope") + "; set kd.dataset.train to an"
                        + " existing folder of images");
    }
}
