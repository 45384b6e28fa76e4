package dev.distill.datasets.softlabels;

import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class TestSoftLabelFileWriter {
    @TempDir
    Path dir;

    private final Configuration conf = new Configuration();

    @Test
    void levelRunsEncodeAsHybridRleRunsBehindTheirLength() throws IOException {
        FloatListPages.LevelRuns runs = new FloatListPages.LevelRuns();
        runs.add(0, 1);
        runs.add(1, 783);
        runs.add(1, 1);   // merges into the previous run: 784 ones
        runs.add(0, 1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        runs.encode().writeAllTo(out);
        // run 1: header 1<<1 = 2, value 0; run 2: header 784<<1 = 1568 = 0x620 -> varint 0xA0 0x0C, value 1;
        // run 3: header 2, value 0. Section length 7, little-endian.
        assertThat(out.toByteArray()).containsExactly(7, 0, 0, 0, 2, 0, (byte) 0xA0, 0x0C, 1, 2, 0);
    }

    @Test
    void emptyArraysManyPagesAndRowGroupsReadBackThroughParquetMr() throws IOException {
        Random r = new Random(11);
        List<SoftLabelRecord> rows = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            float[] t = new float[i % 7 == 0 ? 0 : 1 + r.nextInt(300)];
            for (int j = 0; j < t.length; j++) {
                t[j] = r.nextFloat() * 2 - 1;
            }
            rows.add(new SoftLabelRecord(i, i % 3 == 0 ? null : i % 5, t));
        }
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir.resolve("x.parquet").toString());
        try (SoftLabelFileWriter w = new SoftLabelFileWriter(conf, file, Map.of("k", "v"), CompressionCodecName.SNAPPY,
                1 << 20)) {
            for (SoftLabelRecord row : rows) {
                w.write(row);
            }
        }
        try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(file, conf))) {
            assertThat(reader.getRowGroups().size()).as("row groups").isGreaterThan(2);
            assertThat(reader.getRecordCount()).isEqualTo(5000);
            assertThat(reader.getFileMetaData().getKeyValueMetaData()).containsEntry("k", "v");
        }
        int i = 0;
        try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
            for (Group g; (g = reader.read()) != null; i++) {
                SoftLabelRecord want = rows.get(i);
                assertThat(g.getLong("id", 0)).isEqualTo(want.id());
                assertThat(g.getFieldRepetitionCount("label")).isEqualTo(want.label() == null ? 0 : 1);
                if (want.label() != null) {
                    assertThat(g.getInteger("label", 0)).isEqualTo(want.label());
                }
                assertThat(read(g.getGroup("teacher_logits", 0))).as("logits of row %d", i)
                        .containsExactly(want.teacherLogits());
            }
        }
        assertThat(i).isEqualTo(5000);
    }

    private static float[] read(Group list) {
        float[] out = new float[list.getFieldRepetitionCount("element")];
        for (int i = 0; i < out.length; i++) {
            out[i] = list.getFloat("element", i);
        }
        return out;
    }
}
