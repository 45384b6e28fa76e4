package dev.distill.datasets.softlabels;

import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestSoftLabelStore {
    @TempDir
    Path dir;

    private final Configuration conf = new Configuration();
    private final SoftLabelMetadata md = new SoftLabelMetadata(2, "teacher.zip", "ab12", 3, new int[] {1, 2, 2},
            "scale(x*0.5)", "c0ffee", "2026-01-01T00:00:00Z");

    private String writeComplete() throws IOException {
        String target = dir.resolve("soft").toString();
        String tmp = SoftLabelStore.createTemp(conf, target);
        SoftLabelStore.writePart(conf, tmp, 0, 1, md, List.of(
                new SoftLabelRecord(0, 2, new float[] {0.1f, 0.2f, 0.3f}),
                new SoftLabelRecord(1, null, new float[] {1f, -1f, 0f})).iterator());
        SoftLabelStore.writePart(conf, tmp, 1, 2, md, List.of(
                new SoftLabelRecord(2, 0, new float[] {3f, 2f, 1f})).iterator());
        SoftLabelStore.commit(conf, tmp, target, "{}");
        return target;
    }

    @Test
    void committedFolderHoldsPartsMarkerAndFooterMetadata() throws IOException {
        String target = writeComplete();
        SoftLabelStore.Info info = SoftLabelStore.inspect(conf, target);
        assertThat(info.rows()).isEqualTo(3);
        assertThat(info.files()).hasSize(2);
        assertThat(info.metadata()).isEqualTo(md);
        assertThat(info.metadata().featureLength()).isEqualTo(4);
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(info.files().get(0)), conf))) {
            assertThat(r.getFooter().getFileMetaData().getKeyValueMetaData())
                    .containsEntry("distill.schema_version", "2")
                    .containsEntry("distill.data_key", "c0ffee")
                    .containsEntry("distill.teacher_sha256", "ab12")
                    .containsEntry("distill.num_classes", "3")
                    .containsEntry("distill.input_shape", "1x2x2");
            assertThat(r.getFooter().getFileMetaData().getSchema().getFields().stream().map(f -> f.getName()))
                    .containsExactly("id", "label", "teacher_logits");
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("soft");
        }
        try (var files = Files.list(dir.resolve("soft"))) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains("part-")))
                    .as("local parts are written without Hadoop's .crc companions")
                    .containsExactlyInAnyOrder("part-00000.parquet", "part-00001.parquet");
        }
    }

    /** The marker lists every part and its rows: a deleted, copied or replaced part is named. */
    @Test
    void checksThePartsAgainstTheManifest() throws IOException {
        String target = writeComplete();
        assertThat(Files.readString(Path.of(target, SoftLabelStore.SUCCESS))).isEqualTo("{\"rows\": 3, \"parts\":"
                + " {\"part-00000.parquet\": {\"rows\": 2, \"ids\": [0, 1]}, \"part-00001.parquet\": {\"rows\": 1,"
                + " \"ids\": [2, 2]}}, \"metadata\": {}}\n");
        Path part1 = Path.of(target, "part-00001.parquet");
        Path copy = Path.of(target, "part-00001-copy.parquet");
        Files.copy(part1, copy);
        assertThatThrownBy(() -> SoftLabelStore.inspect(conf, target)).hasMessage("soft labels in " + target
                + " hold part-00001-copy.parquet, which _SUCCESS does not list (a copied or stray file?); remove it,"
                + " or rerun `distill label <job.conf> --force`");
        Files.delete(copy);
        byte[] one = Files.readAllBytes(part1);
        Files.delete(part1);
        assertThatThrownBy(() -> SoftLabelStore.inspect(conf, target)).hasMessage("soft labels in " + target
                + " are missing part-00001.parquet (listed in _SUCCESS); rerun `distill label <job.conf> --force`");
        Files.copy(Path.of(target, "part-00000.parquet"), part1);   // a part of another size in its place
        assertThatThrownBy(() -> SoftLabelStore.inspect(conf, target)).hasMessage("soft-label file file:" + part1
                + " holds 2 rows but _SUCCESS records 1; rerun `distill label <job.conf> --force`");
        Files.write(part1, one);
        assertThat(SoftLabelStore.inspect(conf, target).rows()).isEqualTo(3);
    }

    /** A part replaced by another part of the same size (other ids) is caught by the ids the manifest records. */
    @Test
    void aPartReplacedByOneOfTheSameSizeIsCaught() throws IOException {
        String target = dir.resolve("same").toString();
        String tmp = SoftLabelStore.createTemp(conf, target);
        SoftLabelStore.writePart(conf, tmp, 0, 1, md, List.of(new SoftLabelRecord(0, 2, new float[] {0.1f, 0.2f, 0.3f}),
                new SoftLabelRecord(1, null, new float[] {1f, -1f, 0f})).iterator());
        SoftLabelStore.writePart(conf, tmp, 1, 2, md, List.of(new SoftLabelRecord(2, 0, new float[] {3f, 2f, 1f}),
                new SoftLabelRecord(3, 1, new float[] {0f, 2f, 1f})).iterator());
        SoftLabelStore.commit(conf, tmp, target, "{}");
        Path part1 = Path.of(target, "part-00001.parquet");
        Files.copy(Path.of(target, "part-00000.parquet"), part1, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> SoftLabelStore.inspect(conf, target)).hasMessage("soft-label file file:" + part1
                + " holds ids 0 to 1 but _SUCCESS records 2 to 3 (a part replaced by another?); rerun `distill label"
                + " <job.conf> --force`");
    }

    @Test
    void refusesAnIncompleteFolder() throws IOException {
        String target = writeComplete();
        Files.delete(Path.of(target, SoftLabelStore.SUCCESS));
        assertThatThrownBy(() -> SoftLabelStore.inspect(conf, target)).hasMessage("soft labels in " + target
                + " are incomplete (no _SUCCESS marker); rerun `distill label <job.conf>`");
    }

    @Test
    void namesATruncatedPartFile() throws IOException {
        String target = writeComplete();
        Path part = Path.of(target, "part-00001.parquet");
        byte[] bytes = Files.readAllBytes(part);
        Files.write(part, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> SoftLabelStore.inspect(conf, target))
                .hasMessageStartingWith("soft-label file file:" + part + " is not a readable Parquet file (truncated or corrupt: ")
                .hasMessageEndingWith("); rerun `distill label <job.conf> --force`");
    }

    @Test
    void missingFolderSaysWhichCommandMakesIt() {
        String missing = dir.resolve("nothing").toString();
        assertThatThrownBy(() -> SoftLabelStore.inspect(conf, missing))
                .hasMessage("soft labels not found: " + missing + " does not exist; run `distill label <job.conf>` first");
    }

    @Test
    void refusesAnotherSchemaVersion() {
        var footer = new java.util.HashMap<>(md.toFooter());
        footer.put("distill.schema_version", "4");
        assertThatThrownBy(() -> SoftLabelMetadata.fromFooter(footer, "f.parquet"))
                .hasMessage("f.parquet: soft-label schema version 4 is not supported; this build reads versions 2 to 3");
        footer.put("distill.schema_version", "1");
        assertThatThrownBy(() -> SoftLabelMetadata.fromFooter(footer, "f.parquet"))
                .hasMessage("f.parquet: soft-label schema version 1 is not supported; this build reads versions 2 to 3"
                        + " (rerun `distill label <job.conf>` to rewrite them)");
        // Version 2 (before stored views) reads as one view per example.
        footer.put("distill.schema_version", "2");
        assertThat(SoftLabelMetadata.fromFooter(footer, "f.parquet").views()).isEqualTo(1);
        // Version 3 with views: their count and augmentation come back from the footer.
        SoftLabelMetadata views = new SoftLabelMetadata(3, "t", "ab", 3, new int[] {1, 2, 2}, "none", "d", "now")
                .withViews(6, "Augmentation[shift=2, flip=0.5, cropMin=0.0, cropMax=0.0]");
        assertThat(SoftLabelMetadata.fromFooter(views.toFooter(), "f.parquet")).isEqualTo(views);
        assertThat(views.toFooter()).containsEntry("distill.views", "6")
                .containsEntry("distill.augmentation", "Augmentation[shift=2, flip=0.5, cropMin=0.0, cropMax=0.0]");
    }

    @Test
    void rejectsLogitsOfTheWrongWidth() {
        String tmp = SoftLabelStore.createTemp(conf, dir.resolve("w").toString());
        assertThatThrownBy(() -> SoftLabelStore.writePart(conf, tmp, 0, 0, md, List.of(
                new SoftLabelRecord(7, 1, new float[5])).iterator()))
                .hasMessage("teacher produced 5 logits for row 7; expected 3 classes");
    }

    @Test
    void unwritableTargetIsNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("plainfile"), "x");
        String target = file.resolve("soft").toString();
        assertThatThrownBy(() -> SoftLabelStore.createTemp(conf, target))
                .hasMessageStartingWith("cannot write the soft labels to " + target + ": cannot create ");
    }

    @Test
    void everyValueReadsBackThroughAnIndependentReader() throws IOException {
        String target = writeComplete();
        List<String> seen = new java.util.ArrayList<>();
        for (String name : List.of("part-00000.parquet", "part-00001.parquet")) {
            try (org.apache.parquet.hadoop.ParquetReader<org.apache.parquet.example.data.Group> reader =
                         org.apache.parquet.hadoop.ParquetReader.builder(
                                 new org.apache.parquet.hadoop.example.GroupReadSupport(),
                                 new org.apache.hadoop.fs.Path(target, name)).withConf(conf).build()) {
                for (org.apache.parquet.example.data.Group g; (g = reader.read()) != null; ) {
                    StringBuilder b = new StringBuilder().append(g.getLong("id", 0)).append(':');
                    b.append(g.getFieldRepetitionCount("label") == 0 ? "null" : g.getInteger("label", 0)).append(':');
                    var t = g.getGroup("teacher_logits", 0);
                    for (int i = 0; i < t.getFieldRepetitionCount("element"); i++) {
                        b.append(t.getFloat("element", i)).append(',');
                    }
                    seen.add(b.toString());
                }
            }
        }
        assertThat(seen).containsExactly(
                "0:2:0.1,0.2,0.3,",
                "1:null:1.0,-1.0,0.0,",
                "2:0:3.0,2.0,1.0,");
    }

    @Test
    void aPartLargerThanOnePageKeepsEveryValue() throws IOException {
        SoftLabelMetadata md = new SoftLabelMetadata(2, "teacher.zip", "ab12", 784, new int[] {1, 2, 2},
                "scale(x*0.5)", "c0ffee", "2026-01-01T00:00:00Z");
        String target = dir.resolve("big").toString();
        String tmp = SoftLabelStore.createTemp(conf, target);
        java.util.Random r = new java.util.Random(5);
        List<SoftLabelRecord> rows = new java.util.ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            float[] f = new float[784];
            for (int j = 0; j < f.length; j++) {
                f[j] = r.nextFloat();
            }
            rows.add(new SoftLabelRecord(i, i % 3 == 0 ? null : i % 3, f));
        }
        SoftLabelStore.writePart(conf, tmp, 0, 0, md, rows.iterator());
        SoftLabelStore.commit(conf, tmp, target, "{}");
        assertThat(SoftLabelStore.inspect(conf, target).rows()).isEqualTo(3000);
        int i = 0;
        try (org.apache.parquet.hadoop.ParquetReader<org.apache.parquet.example.data.Group> reader =
                     org.apache.parquet.hadoop.ParquetReader.builder(new org.apache.parquet.hadoop.example.GroupReadSupport(),
                             new org.apache.hadoop.fs.Path(target, "part-00000.parquet")).withConf(conf).build()) {
            for (org.apache.parquet.example.data.Group g; (g = reader.read()) != null; i++) {
                SoftLabelRecord want = rows.get(i);
                assertThat(g.getLong("id", 0)).isEqualTo(want.id());
                var t = g.getGroup("teacher_logits", 0);
                assertThat(t.getFieldRepetitionCount("element")).isEqualTo(784);
                assertThat(t.getFloat("element", 783)).isEqualTo(want.teacherLogits()[783]);
                assertThat(t.getFloat("element", i % 784)).isEqualTo(want.teacherLogits()[i % 784]);
                assertThat(g.getFieldRepetitionCount("label")).isEqualTo(want.label() == null ? 0 : 1);
            }
        }
        assertThat(i).isEqualTo(3000);
    }

    /**
     * Stored views as top-k: the image's own top k, each view's box, and each view's k largest classes and
     * logits and its logsumexp, read back through parquet-mr's own reader; several row groups.
     */
    @Test
    void topKViewsReadBackThroughAnIndependentReader() throws IOException {
        int classes = 5;
        int views = 3;
        SoftLabelMetadata md = new SoftLabelMetadata(3, "teacher.zip", "ab12", classes, new int[] {1, 2, 2},
                "none", "c0ffee", "2026-01-01T00:00:00Z", 2).withViews(views, "Augmentation[shift=1]");
        String target = dir.resolve("topviews").toString();
        String tmp = SoftLabelStore.createTemp(conf, target);
        java.util.Random r = new java.util.Random(3);
        List<SoftLabelRecord> rows = new java.util.ArrayList<>();
        for (int i = 0; i < 700; i++) {
            float[] all = new float[views * classes];
            for (int j = 0; j < all.length; j++) {
                all[j] = (float) r.nextGaussian() * 3;
            }
            int[] boxes = new int[views * 5];
            for (int j = 0; j < boxes.length; j++) {
                boxes[j] = r.nextInt(9);
            }
            rows.add(new SoftLabelRecord(i, i % 5 == 0 ? null : i % 5, java.util.Arrays.copyOf(all, classes), boxes, all));
        }
        try (SoftLabelFileWriter w = new SoftLabelFileWriter(conf, new org.apache.hadoop.fs.Path(tmp, "part-00000.parquet"),
                md.toFooter(), org.apache.parquet.hadoop.metadata.CompressionCodecName.SNAPPY, 4096, 2, true)) {
            for (SoftLabelRecord row : rows) {
                w.write(row);
            }
        }
        try (ParquetFileReader f = ParquetFileReader.open(HadoopInputFile.fromPath(
                new org.apache.hadoop.fs.Path(tmp, "part-00000.parquet"), conf))) {
            assertThat(f.getFooter().getBlocks().size()).as("row groups").isGreaterThan(1);
            assertThat(f.getFooter().getFileMetaData().getSchema()).isEqualTo(SoftLabelFileWriter.SCHEMA_VIEWS_TOPK);
        }
        int i = 0;
        try (org.apache.parquet.hadoop.ParquetReader<org.apache.parquet.example.data.Group> reader =
                     org.apache.parquet.hadoop.ParquetReader.builder(new org.apache.parquet.hadoop.example.GroupReadSupport(),
                             new org.apache.hadoop.fs.Path(tmp, "part-00000.parquet")).withConf(conf).build()) {
            for (org.apache.parquet.example.data.Group g; (g = reader.read()) != null; i++) {
                SoftLabelRecord want = rows.get(i);
                assertThat(g.getLong("id", 0)).isEqualTo(want.id());
                TopK own = TopK.of(want.teacherLogits(), 2);
                assertThat(ints(g, "topk_index")).containsExactly(own.index());
                assertThat(floats(g, "topk_logit")).containsExactly(own.logit());
                assertThat(g.getFloat("logsumexp", 0)).isEqualTo(own.logSumExp());
                assertThat(ints(g, "view_boxes")).containsExactly(want.viewBoxes());
                int[] index = ints(g, "view_topk_index");
                float[] logit = floats(g, "view_topk_logit");
                float[] lse = floats(g, "view_logsumexp");
                assertThat(index).hasSize(views * 2);
                assertThat(lse).hasSize(views);
                for (int v = 0; v < views; v++) {
                    TopK t = TopK.of(java.util.Arrays.copyOfRange(want.viewLogits(), v * classes, (v + 1) * classes), 2);
                    assertThat(java.util.Arrays.copyOfRange(index, v * 2, v * 2 + 2)).as("row %d view %d", i, v)
                            .containsExactly(t.index());
                    assertThat(java.util.Arrays.copyOfRange(logit, v * 2, v * 2 + 2)).containsExactly(t.logit());
                    assertThat(lse[v]).isEqualTo(t.logSumExp());
                }
            }
        }
        assertThat(i).isEqualTo(700);
    }

    private static int[] ints(org.apache.parquet.example.data.Group g, String list) {
        var l = g.getGroup(list, 0);
        int[] out = new int[l.getFieldRepetitionCount("element")];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.getInteger("element", i);
        }
        return out;
    }

    private static float[] floats(org.apache.parquet.example.data.Group g, String list) {
        var l = g.getGroup(list, 0);
        float[] out = new float[l.getFieldRepetitionCount("element")];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.getFloat("element", i);
        }
        return out;
    }
}
