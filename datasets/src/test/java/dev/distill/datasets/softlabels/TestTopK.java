package dev.distill.datasets.softlabels;

import dev.distill.datasets.spark.SoftLabelReader;
import dev.distill.testing.LocalSpark;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TestTopK {
    @TempDir
    Path dir;

    /**
     * z = (1, 3, 2, 0), k = 2: the top two are classes 1 and 2 (logits 3 and 2), logsumexp = log(e + e³ + e² + 1).
     * Expanded, classes 0 and 3 share the tail mass (e + 1) / Σ evenly: each gets log((e + 1) / 2).
     */
    @Test
    void keepsTheLargestLogitsAndTheExactTailMass() {
        TopK t = TopK.of(new float[] {1, 3, 2, 0}, 2);
        assertThat(t.index()).containsExactly(1, 2);
        assertThat(t.logit()).containsExactly(3f, 2f);
        double sum = Math.E + Math.exp(3) + Math.exp(2) + 1;
        assertThat((double) t.logSumExp()).isCloseTo(Math.log(sum), within(1e-6));
        float[] z = TopK.expand(t.index(), t.logit(), t.logSumExp(), 4);
        assertThat((double) z[0]).isCloseTo(Math.log((Math.E + 1) / 2), within(1e-5));
        assertThat(z[3]).isEqualTo(z[0]);
        assertThat(z[1]).isEqualTo(3f);
        assertThat(z[2]).isEqualTo(2f);
        double p1 = Math.exp(z[1]) / (Math.exp(z[0]) + Math.exp(z[1]) + Math.exp(z[2]) + Math.exp(z[3]));
        assertThat(p1).isCloseTo(Math.exp(3) / sum, within(1e-6));
        assertThat(TopK.of(new float[] {5, 5, 1}, 1).index()).containsExactly(0);   // ties to the lower class
    }

    /**
     * 1,000 classes, k = 10: the logit columns are over 20× smaller; the reader rebuilds full logits and joins
     * them with the examples' features by id.
     */
    @Test
    void topTenOfAThousandClassesIsOverTwentyTimesSmallerAndReadsBackAsFullLogits() throws Exception {
        Configuration conf = new Configuration();
        Random r = new Random(3);
        List<SoftLabelRecord> rows = new ArrayList<>();
        List<Row> examples = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            float[] f = new float[8];
            for (int j = 0; j < f.length; j++) {
                f[j] = r.nextFloat();
            }
            float[] z = new float[1000];
            for (int c = 0; c < z.length; c++) {
                z[c] = (float) (r.nextGaussian() * 2);
            }
            z[i % 1000] += 12;
            rows.add(new SoftLabelRecord(i, i % 1000, z));
            examples.add(org.apache.spark.sql.RowFactory.create((long) i, f, null));
        }
        SoftLabelMetadata full = new SoftLabelMetadata(2, "t", "ab", 1000, new int[] {8}, "none", "data", "now");
        long fullBytes = SoftLabelStore.columnBytes(conf, write(conf, "full", full, rows), "teacher_logits");
        long topBytes = SoftLabelStore.columnBytes(conf, write(conf, "top", full.withTopK(10), rows), "topk_",
                "logsumexp");
        System.out.printf("logit columns: full %d bytes, top-10 %d bytes (%.1fx)%n", fullBytes, topBytes,
                (double) fullBytes / topBytes);
        assertThat((double) fullBytes / topBytes).as("full %d bytes vs top-10 %d bytes", fullBytes, topBytes)
                .isGreaterThan(20);

        SparkSession spark = LocalSpark.start();
        try {
            SoftLabelStore.Info info = SoftLabelStore.inspect(conf, dir.resolve("top").toString());
            assertThat(info.metadata().topK()).isEqualTo(10);
            List<Row> back = SoftLabelReader.read(spark, dir.resolve("top").toString(), info.metadata(),
                    spark.createDataFrame(examples, dev.distill.datasets.ExampleSchema.SCHEMA))
                    .orderBy("id").limit(3).collectAsList();
            for (int i = 0; i < 3; i++) {
                float[] want = rows.get(i).teacherLogits();
                TopK t = TopK.of(want, 10);
                List<Float> got = back.get(i).getList(3);
                assertThat(got).hasSize(1000);
                for (int k = 0; k < 10; k++) {
                    assertThat(got.get(t.index()[k])).isEqualTo(want[t.index()[k]]);
                }
                assertThat(back.get(i).getInt(2)).as("the label from the soft labels").isEqualTo(i);
                assertThat(dev.distill.datasets.Rows.floats(back.get(i).getList(1))).as("features from the examples")
                        .containsExactly((float[]) examples.get(i).get(1));
            }
        } finally {
            spark.stop();
        }
    }

    private String write(Configuration conf, String name, SoftLabelMetadata md, List<SoftLabelRecord> rows)
            throws Exception {
        String target = dir.resolve(name).toString();
        String tmp = SoftLabelStore.createTemp(conf, target);
        SoftLabelStore.writePart(conf, tmp, 0, 0, md, rows.iterator());
        SoftLabelStore.commit(conf, tmp, target, "{}");
        return target + "/part-00000.parquet";
    }
}
