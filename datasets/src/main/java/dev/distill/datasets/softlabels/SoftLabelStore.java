package dev.distill.datasets.softlabels;

import dev.distill.datasets.augment.View;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.hadoop.util.HadoopInputFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Reads and writes a soft-label folder atomically: tasks write {@code part-NNNNN.parquet} files into a
 * hidden temporary folder beside the target (a retried task overwrites its own part, so a rerun or retry
 * never duplicates rows); the driver then writes a {@code _SUCCESS} marker and renames the folder into
 * place. A folder without the marker is incomplete and refused by {@link #inspect}.
 */
public final class SoftLabelStore {
    public static final String SUCCESS = "_SUCCESS";

    /** What a complete soft-label folder holds. */
    public record Info(SoftLabelMetadata metadata, long rows, List<String> files) {
    }

    private SoftLabelStore() {
    }

    /** Creates a fresh temporary folder beside {@code target}; fails with the path if it cannot be written. */
    public static String createTemp(Configuration conf, String target) {
        Path t = new Path(target);
        Path tmp = new Path(t.getParent(), "." + t.getName() + ".tmp-" + UUID.randomUUID());
        try {
            FileSystem fs = tmp.getFileSystem(conf);
            if (!fs.mkdirs(tmp)) {
                throw new IOException("mkdirs returned false");
            }
            return tmp.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the soft labels to " + target + ": cannot create " + tmp
                    + " (" + e.getMessage() + "); choose a writable kd.output-dir", e);
        }
    }

    /** Writes one partition's rows to {@code tmpDir/part-NNNNN.parquet} and returns the row count. */
    public static long writePart(Configuration conf, String tmpDir, int partition, long attempt,
                                 SoftLabelMetadata metadata, Iterator<SoftLabelRecord> rows) throws IOException {
        return writePart(conf, tmpDir, partition, attempt, metadata, CompressionCodecName.SNAPPY, rows);
    }

    /** As above with a compression codec. */
    public static long writePart(Configuration conf, String tmpDir, int partition, long attempt,
                                 SoftLabelMetadata metadata, CompressionCodecName codec,
                                 Iterator<SoftLabelRecord> rows) throws IOException {
        String name = String.format("part-%05d.parquet", partition);
        Path attemptPath = new Path(tmpDir, "_attempt-" + attempt + "-" + name);
        Path finalPath = new Path(tmpDir, name);
        long n = 0;
        FileSystem fs = finalPath.getFileSystem(conf);
        try (SoftLabelFileWriter writer = new SoftLabelFileWriter(conf, attemptPath, metadata.toFooter(), codec,
                SoftLabelFileWriter.ROW_GROUP_BYTES, metadata.topK(), metadata.hasViews())) {
            while (rows.hasNext()) {
                SoftLabelRecord r = rows.next();
                if (r.teacherLogits().length != metadata.numClasses()) {
                    throw new IllegalStateException("teacher produced " + r.teacherLogits().length
                            + " logits for row " + r.id() + "; expected " + metadata.numClasses() + " classes");
                }
                if (metadata.hasViews() && (r.viewBoxes() == null || r.viewBoxes().length != View.NUMBERS * metadata.views()
                        || r.viewLogits() == null || r.viewLogits().length != metadata.views() * metadata.numClasses())) {
                    throw new IllegalStateException("row " + r.id() + " does not hold " + metadata.views() + " views");
                }
                writer.write(r);
                n++;
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                fs.delete(attemptPath, false);   // a retry writes its own attempt file
            } catch (IOException ignored) {
                // the temporary folder is removed when the job fails
            }
            throw e;
        }
        fs.delete(finalPath, false);
        if (!fs.rename(attemptPath, finalPath)) {
            throw new IOException("cannot rename " + attemptPath + " to " + finalPath);
        }
        return n;
    }

    /**
     * Marks {@code tmpDir} complete and moves it to {@code target}, replacing any previous folder there. The
     * marker ({@value #SUCCESS}) is the manifest: every part's file name and row count (read from the parts'
     * footers), the total, and {@code metadataJson} (a JSON object); {@link #inspect} checks a folder against it.
     */
    public static void commit(Configuration conf, String tmpDir, String target, String metadataJson) {
        Path tmp = new Path(tmpDir);
        Path dst = new Path(target);
        try {
            FileSystem fs = dst.getFileSystem(conf);
            for (FileStatus s : fs.listStatus(tmp)) {
                if (s.getPath().getName().startsWith("_attempt-")) {
                    fs.delete(s.getPath(), false);
                }
            }
            FileStatus[] parts = fs.listStatus(tmp, p -> isPart(p.getName()));
            Arrays.sort(parts);
            StringBuilder list = new StringBuilder();
            long total = 0;
            for (FileStatus part : parts) {
                PartSummary p = summary(conf, part.getPath());
                total += p.rows();
                list.append(list.length() == 0 ? "" : ", ").append('"').append(part.getPath().getName()).append("\": ")
                        .append(p.toJson());
            }
            String manifest = "{\"rows\": " + total + ", \"parts\": {" + list + "}, \"metadata\": " + metadataJson + "}\n";
            try (FSDataOutputStream out = fs.create(new Path(tmp, SUCCESS), true)) {
                out.write(manifest.getBytes(StandardCharsets.UTF_8));
            }
            Path old = null;
            if (fs.exists(dst)) {
                old = new Path(dst.getParent(), dev.distill.datasets.AtomicFile.temporaryName(dst.getName() + ".old"));
                if (!fs.rename(dst, old)) {
                    throw new IOException("cannot move the previous " + dst + " aside");
                }
            }
            if (!fs.rename(tmp, dst)) {
                throw new IOException("cannot rename " + tmp + " to " + dst);
            }
            if (old != null) {
                fs.delete(old, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot commit soft labels to " + target + ": " + e.getMessage(), e);
        }
    }

    private static boolean isPart(String name) {
        return name.endsWith(".parquet") && !name.startsWith("_") && !name.startsWith(".");
    }

    /**
     * A part as the manifest records it: its rows and the smallest and largest id (from the footer's column
     * statistics; null when the writer kept none), so that a part replaced by another of the same size is
     * still caught.
     */
    record PartSummary(long rows, Long minId, Long maxId) {
        String toJson() {
            return minId == null ? "{\"rows\": " + rows + "}"
                    : "{\"rows\": " + rows + ", \"ids\": [" + minId + ", " + maxId + "]}";
        }
    }

    static PartSummary summary(Configuration conf, Path part) throws IOException {
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(part, conf))) {
            return summary(reader.getFooter());
        }
    }

    private static PartSummary summary(ParquetMetadata footer) {
        long rows = 0;
        Long min = null;
        Long max = null;
        for (BlockMetaData b : footer.getBlocks()) {
            rows += b.getRowCount();
            for (var c : b.getColumns()) {
                if (c.getPath().toDotString().equals("id") && c.getStatistics() != null && c.getStatistics().hasNonNullValue()) {
                    long lo = ((Number) c.getStatistics().genericGetMin()).longValue();
                    long hi = ((Number) c.getStatistics().genericGetMax()).longValue();
                    min = min == null ? lo : Math.min(min, lo);
                    max = max == null ? hi : Math.max(max, hi);
                }
            }
        }
        return new PartSummary(rows, min, max);
    }

    /** Removes a temporary folder after a failure (best effort). */
    public static void abort(Configuration conf, String tmpDir) {
        try {
            Path tmp = new Path(tmpDir);
            tmp.getFileSystem(conf).delete(tmp, true);
        } catch (IOException ignored) {
            // the folder is hidden and named .tmp-*; it does not affect later runs
        }
    }

    /**
     * Checks a soft-label folder: complete, every part a readable Parquet file with our metadata, all parts
     * agreeing. Reads only footers.
     */
    public static Info inspect(Configuration conf, String dir) {
        Path root = new Path(dir);
        try {
            FileSystem fs = root.getFileSystem(conf);
            if (!fs.exists(root)) {
                throw new IllegalArgumentException("soft labels not found: " + dir
                        + " does not exist; run `distill label <job.conf>` first");
            }
            if (!fs.exists(new Path(root, SUCCESS))) {
                throw new IllegalArgumentException("soft labels in " + dir + " are incomplete (no " + SUCCESS
                        + " marker); rerun `distill label <job.conf>`");
            }
            FileStatus[] parts = fs.listStatus(root, p -> isPart(p.getName()));
            Arrays.sort(parts);
            if (parts.length == 0) {
                throw new IllegalArgumentException("soft labels in " + dir + " hold no part-*.parquet files");
            }
            Map<String, PartSummary> manifest = manifestParts(fs, new Path(root, SUCCESS), dir);
            SoftLabelMetadata first = null;
            long rows = 0;
            List<String> files = new ArrayList<>();
            for (FileStatus part : parts) {
                String name = part.getPath().toString();
                ParquetMetadata footer;
                try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(part.getPath(), conf))) {
                    footer = reader.getFooter();
                } catch (IOException | RuntimeException e) {
                    throw new IllegalArgumentException("soft-label file " + name + " is not a readable Parquet file"
                            + " (truncated or corrupt: " + e.getMessage() + "); rerun `distill label <job.conf> --force`");
                }
                SoftLabelMetadata md = SoftLabelMetadata.fromFooter(footer.getFileMetaData().getKeyValueMetaData(), name);
                if (first == null) {
                    first = md;
                } else if (!first.sameSource(md)) {
                    throw new IllegalArgumentException("soft-label files in " + dir + " disagree: " + name
                            + " has " + md + " but the first part has " + first);
                }
                PartSummary actual = summary(footer);
                long partRows = actual.rows();
                rows += partRows;
                String partName = part.getPath().getName();
                if (manifest != null && !manifest.containsKey(partName)) {
                    throw new IllegalArgumentException("soft labels in " + dir + " hold " + partName + ", which "
                            + SUCCESS + " does not list (a copied or stray file?); remove it, or rerun `distill label"
                            + " <job.conf> --force`");
                }
                PartSummary recorded = manifest == null ? null : manifest.get(partName);
                if (recorded != null && recorded.rows() != partRows) {
                    throw new IllegalArgumentException("soft-label file " + name + " holds " + partRows + " rows but "
                            + SUCCESS + " records " + recorded.rows() + "; rerun `distill label <job.conf> --force`");
                }
                if (recorded != null && recorded.minId() != null && !(recorded.minId().equals(actual.minId())
                        && recorded.maxId().equals(actual.maxId()))) {
                    throw new IllegalArgumentException("soft-label file " + name + " holds ids " + actual.minId() + " to "
                            + actual.maxId() + " but " + SUCCESS + " records " + recorded.minId() + " to " + recorded.maxId()
                            + " (a part replaced by another?); rerun `distill label <job.conf> --force`");
                }
                files.add(name);
            }
            if (manifest != null && manifest.size() != parts.length) {
                List<String> missing = new ArrayList<>(manifest.keySet());
                for (FileStatus part : parts) {
                    missing.remove(part.getPath().getName());
                }
                throw new IllegalArgumentException("soft labels in " + dir + " are missing " + String.join(", ", missing)
                        + " (listed in " + SUCCESS + "); rerun `distill label <job.conf> --force`");
            }
            return new Info(first, rows, files);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read soft labels in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * The parts and row counts the marker lists, or null for a marker without them (written by hand, or
     * before markers held a manifest).
     */
    private static Map<String, PartSummary> manifestParts(FileSystem fs, Path marker, String dir) throws IOException {
        String text;
        try (var in = fs.open(marker)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (text.isBlank() || text.strip().equals("{}")) {
            return null;
        }
        try {
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(text).get("parts");
            if (node == null || !node.isObject()) {
                return null;
            }
            Map<String, PartSummary> out = new java.util.LinkedHashMap<>();
            node.fields().forEachRemaining(e -> {
                var v = e.getValue();
                if (v.isNumber()) {
                    out.put(e.getKey(), new PartSummary(v.asLong(), null, null));   // an earlier manifest: rows only
                } else {
                    var ids = v.get("ids");
                    out.put(e.getKey(), new PartSummary(v.path("rows").asLong(), ids == null ? null : ids.get(0).asLong(),
                            ids == null ? null : ids.get(1).asLong()));
                }
            });
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("soft labels in " + dir + ": " + SUCCESS + " is damaged (not JSON: "
                    + e.getMessage().lines().findFirst().orElse("") + "); rerun `distill label <job.conf> --force`");
        }
    }

    /** Bytes on disk of the column chunks of {@code file} whose dotted paths start with one of {@code prefixes}. */
    public static long columnBytes(Configuration conf, String file, String... prefixes) {
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(file), conf))) {
            long n = 0;
            for (BlockMetaData b : reader.getFooter().getBlocks()) {
                for (var c : b.getColumns()) {
                    String path = c.getPath().toDotString();
                    for (String p : prefixes) {
                        if (path.startsWith(p)) {
                            n += c.getTotalSize();
                            break;
                        }
                    }
                }
            }
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
