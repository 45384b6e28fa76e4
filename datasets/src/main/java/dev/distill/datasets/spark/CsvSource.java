package dev.distill.datasets.spark;

import dev.distill.datasets.CsvFormat;
import dev.distill.datasets.DatasetSettings;
import dev.distill.datasets.ExampleSchema;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * CSV sources, read by our own parser rather than Spark's CSV reader, so that every bad value stops the job
 * with the file, line and column it is in (Spark's reader infers a string type for a column with one
 * non-numeric cell and the column silently drops out of the features; its errors name no file or line).
 *
 * <p>A source is a file, a folder (its files, skipping names that start with {@code .} or {@code _}, as Spark
 * writes them) or a glob, read in the order of the file paths; {@code .gz} and the other Hadoop codecs are
 * decompressed, plain files are split across tasks. With {@code csv.header = true} the first line of every
 * file is its header and must name the same columns as the first file's. Every other column than the label
 * is a feature; every feature must be a finite number, every label a class index or empty (no label). Blank
 * lines are skipped. Ids are the row positions in the source (0, 1, ... over the files in path order), the
 * same on every rerun.
 */
public final class CsvSource {
    private CsvSource() {
    }

    /**
     * What the driver reads of a source before any Spark job: its files, its column names (from the header, or
     * {@code _c0, _c1, ...}), the label column's index (-1 for none) and the number of features.
     */
    public record Layout(List<String> files, List<String> columns, boolean header, int labelIndex)
            implements Serializable {
        public int features() {
            return columns.size() - (labelIndex >= 0 ? 1 : 0);
        }
    }

    /** The files of a source in path order: a file, a folder's visible files, or the files a glob matches. */
    public static List<String> files(Configuration conf, String path) {
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(conf);
            FileStatus[] matches = fs.globStatus(p);
            if (matches == null || matches.length == 0) {
                throw new IllegalArgumentException(path + ": no such file or folder");
            }
            List<String> out = new ArrayList<>();
            for (FileStatus m : matches) {
                if (m.isDirectory()) {
                    for (FileStatus f : fs.listStatus(m.getPath())) {
                        String name = f.getPath().getName();
                        if (f.isFile() && !name.startsWith(".") && !name.startsWith("_")) {
                            out.add(display(f.getPath()));
                        }
                    }
                } else {
                    out.add(display(m.getPath()));
                }
            }
            if (out.isEmpty()) {
                throw new IllegalArgumentException(path + " holds no data files (names starting with . or _ are"
                        + " skipped)");
            }
            out.sort(null);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + path + ": " + e.getMessage(), e);
        }
    }

    /** A local file as a plain path (as users write it), any other as its URI. */
    private static String display(Path p) {
        return "file".equals(p.toUri().getScheme()) ? p.toUri().getPath() : p.toString();
    }

    /** Reads the first file's first line to find the columns and the label column. */
    public static Layout inspect(Configuration conf, String path, DatasetSettings s) {
        List<String> files = files(conf, path);
        String first = files.get(0);
        String line = firstLine(conf, first);
        if (line == null) {
            throw new IllegalArgumentException(first + " is empty; a CSV source needs " + (s.csvHeader()
                    ? "a header line and rows" : "rows"));
        }
        if (s.csvDelimiter().length() != 1) {
            throw new IllegalArgumentException("kd.dataset.csv.delimiter must be one character to read " + first);
        }
        char delimiter = s.csvDelimiter().charAt(0);
        List<String> fields;
        try {
            fields = CsvFormat.fields(line, delimiter);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(first + ":1: " + e.getMessage());
        }
        List<String> columns = new ArrayList<>();
        for (int i = 0; i < fields.size(); i++) {
            columns.add(s.csvHeader() ? fields.get(i).strip() : "_c" + i);
        }
        int labelIndex = labelIndex(first, columns, s);
        if (columns.size() - (labelIndex >= 0 ? 1 : 0) == 0) {
            throw new IllegalArgumentException(first + ":1: no feature columns (only "
                    + String.join(", ", columns) + "; kd.dataset.csv.delimiter = \"" + delimiter + "\")");
        }
        return new Layout(files, columns, s.csvHeader(), labelIndex);
    }

    private static int labelIndex(String file, List<String> columns, DatasetSettings s) {
        String label = s.labelColumn().strip();
        if (label.isEmpty()) {
            return -1;
        }
        String name = !s.csvHeader() && label.matches("\\d+") ? "_c" + label : label;
        int i = columns.indexOf(name);
        if (i >= 0) {
            return i;
        }
        if (!s.csvHeader()) {
            throw new IllegalArgumentException(file + ": no column " + label + " (kd.dataset.label-column): the rows"
                    + " have " + columns.size() + " columns, 0 to " + (columns.size() - 1) + " (without a header the"
                    + " label column is a 0-based index); set label-column = \"\" for unlabeled data");
        }
        String advice;
        if (columns.size() == 1) {
            advice = "; the first line holds no '" + s.csvDelimiter() + "' (kd.dataset.csv.delimiter): is " + file
                    + " a CSV file of that delimiter?";
        } else if (columns.stream().allMatch(c -> c.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?"))) {
            advice = "; the first line holds numbers, not names: set kd.dataset.csv.header = false (and label-column to"
                    + " the label's 0-based index)";
        } else {
            advice = "; set label-column = \"\" for unlabeled data";
        }
        throw new IllegalArgumentException(TableSource.missingColumn(file, label, columns, "kd.dataset.label-column")
                + advice);
    }

    static String columns(int n) {
        return n + (n == 1 ? " column" : " columns");
    }

    /**
     * The test source must have the training source's columns in the same order: features are read by
     * position, so a reordered or shorter test file would be misread silently.
     */
    public static void checkSameColumns(Configuration conf, DatasetSettings s) {
        if (!s.hasTestSource()) {
            return;
        }
        Layout train = inspect(conf, s.train(), s);
        Layout test = inspect(conf, s.test(), s);
        if (!train.columns().equals(test.columns())) {
            String what = s.csvHeader() ? columns(test.columns().size()) + " (" + abbreviate(test.columns()) + ")"
                    : columns(test.columns().size());
            String against = s.csvHeader() ? train.columns().size() + " (" + abbreviate(train.columns()) + ")"
                    : Integer.toString(train.columns().size());
            throw new IllegalArgumentException(test.files().get(0) + ": " + what + ", but the training data "
                    + train.files().get(0) + " has " + against + "; train and test need the same columns in the same"
                    + " order (kd.dataset.train, kd.dataset.test)");
        }
    }

    /** The first few names and the last, for messages about wide tables. */
    static String abbreviate(List<String> names) {
        List<String> shown = names.stream().map(CsvSource::printable).toList();
        if (shown.size() <= 8) {
            return String.join(", ", shown);
        }
        return String.join(", ", shown.subList(0, 5)) + ", ..., " + String.join(", ",
                shown.subList(shown.size() - 2, shown.size()));
    }

    /**
     * A column name as a message shows it: at most 40 characters, with bytes that are not text (the first
     * line of a binary file read as UTF-8) shown as {@code ?}, so that a message stays one readable line.
     */
    static String printable(String name) {
        StringBuilder b = new StringBuilder();
        name.codePoints().limit(40).forEach(c -> b.appendCodePoint(
                c == 0xFFFD || Character.isISOControl(c) || !Character.isDefined(c) ? '?' : c));
        return name.codePointCount(0, name.length()) > 40 ? b + "..." : b.toString();
    }

    private static String firstLine(Configuration conf, String file) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(open(conf, file), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            return line == null ? null : stripBom(line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static InputStream open(Configuration conf, String file) throws IOException {
        Path p = new Path(file);
        InputStream in = p.getFileSystem(conf).open(p);
        CompressionCodec codec = new CompressionCodecFactory(conf).getCodec(p);
        return codec == null ? in : codec.createInputStream(in);
    }

    private static String stripBom(String line) {
        return line.startsWith("\uFEFF") ? line.substring(1) : line;
    }

    /** One line of a file: where it is and its text. {@code line} is 0 when the task does not know it. */
    record Line(int file, long offset, long line, String text) implements Serializable {
    }

    /** Reads {@code path} into the example schema. */
    public static Dataset<Row> read(SparkSession spark, String path, DatasetSettings s) {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Configuration conf = sc.hadoopConfiguration();
        Layout layout = inspect(conf, path, s);
        SerializableConfiguration sconf = new SerializableConfiguration(conf);
        char delimiter = s.csvDelimiter().charAt(0);
        int numClasses = s.numClasses();
        JavaRDD<Line> lines = null;
        for (int f = 0; f < layout.files().size(); f++) {
            final int file = f;
            JavaRDD<Line> one = sc.newAPIHadoopFile(layout.files().get(f), TextInputFormat.class, LongWritable.class,
                            Text.class, conf)
                    .mapPartitions(it -> new LineReader(it, file, layout, sconf, delimiter));
            lines = lines == null ? one : lines.union(one);
        }
        JavaRDD<Row> rows = lines.zipWithIndex().map(t -> toRow(t._1(), t._2(), layout, sconf, delimiter, numClasses));
        Dataset<Row> ds = spark.createDataFrame(rows, ExampleSchema.SCHEMA);
        requireRows(ds, path, layout);
        return ds;
    }

    /** Parses one data line into (id, features, label); a bad value names its file, line and column. */
    private static Row toRow(Line l, long id, Layout layout, SerializableConfiguration conf, char delimiter,
                             int numClasses) {
        List<String> fields;
        try {
            fields = CsvFormat.fields(l.text(), delimiter);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where(l, layout, conf) + ": " + e.getMessage());
        }
        int expected = layout.columns().size();
        if (fields.size() != expected) {
            throw new IllegalArgumentException(where(l, layout, conf) + ": " + fields.size() + " fields, but "
                    + (layout.header() ? "the header names " : "the first line has ") + expected
                    + " (kd.dataset.csv.delimiter = \"" + delimiter + "\")");
        }
        float[] x = new float[layout.features()];
        Integer label = null;
        int k = 0;
        for (int c = 0; c < expected; c++) {
            try {
                if (c == layout.labelIndex()) {
                    label = CsvFormat.label(fields.get(c), numClasses);
                } else {
                    x[k++] = CsvFormat.number(fields.get(c));
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where(l, layout, conf) + ": column " + (c + 1)
                        + (layout.header() ? " '" + layout.columns().get(c) + "'" : "")
                        + (c == layout.labelIndex() ? " (the label)" : "") + ": " + e.getMessage());
            }
        }
        return RowFactory.create(id, x, label);
    }

    /** {@code file:line} of a line; a task that started inside a file counts the lines before it now. */
    private static String where(Line l, Layout layout, SerializableConfiguration conf) {
        String file = layout.files().get(l.file());
        long line = l.line() > 0 ? l.line() : lineAt(conf.value(), file, l.offset());
        return file + ":" + (line > 0 ? Long.toString(line) : "byte " + l.offset());
    }

    /** The 1-based line starting at byte {@code offset} of an uncompressed file, or 0 when it cannot be read. */
    static long lineAt(Configuration conf, String file, long offset) {
        try (InputStream in = new java.io.BufferedInputStream(open(conf, file), 1 << 16)) {
            long line = 1;
            for (long i = 0; i < offset; i++) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                line += b == '\n' ? 1 : 0;
            }
            return line;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * The data lines of one task's split: the header (checked against the first file's) and blank lines are
     * dropped; line numbers are counted when the split starts at the file's start. A read error (a truncated
     * .gz) names the file and the last line read.
     */
    private static final class LineReader implements Iterator<Line> {
        private final Iterator<scala.Tuple2<LongWritable, Text>> it;
        private final int file;
        private final Layout layout;
        private final SerializableConfiguration conf;
        private final char delimiter;
        private long line;      // the line number of the last line read; 0 while unknown
        private boolean first = true;
        private Line next;

        LineReader(Iterator<scala.Tuple2<LongWritable, Text>> it, int file, Layout layout, SerializableConfiguration conf,
                   char delimiter) {
            this.it = it;
            this.file = file;
            this.layout = layout;
            this.conf = conf;
            this.delimiter = delimiter;
        }

        @Override
        public boolean hasNext() {
            while (next == null) {
                scala.Tuple2<LongWritable, Text> t;
                try {
                    if (!it.hasNext()) {
                        return false;
                    }
                    t = it.next();
                } catch (Exception e) {   // Hadoop's IOException arrives undeclared through Scala
                    String name = layout.files().get(file);
                    throw new IllegalArgumentException(name + ": cannot read " + (line > 0 ? "past line " + line
                            : "it") + " (" + e.getMessage() + "); is the file truncated or damaged?", e);
                }
                long offset = t._1().get();
                String text = t._2().toString();
                if (first) {
                    first = false;
                    line = offset == 0 ? 1 : 0;
                } else if (line > 0) {
                    line++;
                }
                if (offset == 0) {
                    text = text.startsWith("\uFEFF") ? text.substring(1) : text;
                    if (layout.header()) {
                        checkHeader(text);
                        continue;
                    }
                }
                if (text.isBlank()) {
                    continue;
                }
                next = new Line(file, offset, line, text);
            }
            return true;
        }

        private void checkHeader(String text) {
            String name = layout.files().get(file);
            List<String> names = new ArrayList<>();
            for (String f : CsvFormat.fields(text, delimiter)) {
                names.add(f.strip());
            }
            if (!names.equals(layout.columns())) {
                throw new IllegalArgumentException(name + ":1: the header names " + columns(names.size()) + " ("
                        + abbreviate(names) + ") but " + layout.files().get(0) + " names " + layout.columns().size()
                        + " (" + abbreviate(layout.columns()) + "); every file of a CSV source needs the same header");
            }
        }

        @Override
        public Line next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Line l = next;
            next = null;
            return l;
        }
    }

    /** A source without rows is an error that names it. */
    static void requireRows(Dataset<Row> ds, String path, Layout layout) {
        if (ds.isEmpty()) {
            throw new IllegalArgumentException(path + ": no data rows" + (layout.header() ? " (only the header)" : "")
                    + " in " + Arrays.toString(layout.files().toArray()));
        }
    }
}
