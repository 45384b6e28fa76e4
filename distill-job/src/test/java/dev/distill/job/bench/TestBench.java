package dev.distill.job.bench;

import dev.distill.datasets.ExampleSchema;
import dev.distill.testing.LocalSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TestBench {
    @Test
    void medianOfOddAndEvenCounts() {
        assertThat(Bench.median(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
        assertThat(Bench.median(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.5);
        Bench.Row r = Bench.Row.of("x", List.of(2.0, 9.0, 3.0), List.of(1.0, 3.0, 3.0), "rows/s", 0.85);
        assertThat(r.ratio()).as("median of the paired ratios 2, 3, 1").isEqualTo(2.0);
        assertThat(r.measured()).isEqualTo(3.0);
    }

    @Test
    void copiesOffsetTheIdsOfEachCopyPastTheLargestId() {
        SparkSession spark = LocalSpark.start();
        try {
            List<Row> rows = new ArrayList<>();
            for (long id : new long[] {0, 4, 7}) {
                rows.add(RowFactory.create(id, new float[] {id}, (int) id % 2));
            }
            Dataset<Row> ds = spark.createDataFrame(rows, ExampleSchema.SCHEMA);
            assertThat(LabellingBench.copies(ds, 1)).isSameAs(ds);
            List<Row> three = LabellingBench.copies(ds, 3).orderBy("id").collectAsList();
            assertThat(three.stream().map(r -> r.getLong(0))).containsExactly(0L, 4L, 7L, 8L, 12L, 15L, 16L, 20L, 23L);
            assertThat(three.get(4).<Float>getList(1)).containsExactly(4f);
            assertThat(three.get(4).getInt(2)).isEqualTo(0);
            assertThat(LabellingBench.copies(ds, 3).schema()).isEqualTo(ExampleSchema.SCHEMA);
        } finally {
            spark.stop();
        }
    }
}
