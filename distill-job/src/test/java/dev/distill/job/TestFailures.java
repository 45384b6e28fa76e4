package dev.distill.job;

import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;

import static org.assertj.core.api.Assertions.assertThat;

class TestFailures {
    @Test
    void innermostMessageWins() {
        Throwable e = new RuntimeException("wrapper", new UncheckedIOException("cannot read x: gone",
                new java.io.IOException("gone")));
        assertThat(Failures.oneLine(e)).isEqualTo("gone");
        assertThat(Failures.oneLine(new IllegalArgumentException("row 5 has 10 features", new RuntimeException())))
                .isEqualTo("row 5 has 10 features");
    }

    @Test
    void executorFailureArrivingAsTextIsExtracted() {
        SparkException e = new SparkException("Job aborted due to stage failure: Task 1 in stage 3.0 failed 4 times,"
                + " most recent failure: Lost task 1.3 in stage 3.0 (TID 9) (127.0.0.1 executor 1):"
                + " java.lang.IllegalArgumentException: row 17 has label 12; labels must be in [0, 10)\n"
                + "\tat dev.distill.student.spark.BatchPacker.lambda$pack$1(BatchPacker.java:71)\n");
        assertThat(Failures.oneLine(e)).isEqualTo("row 17 has label 12; labels must be in [0, 10)");
    }

    @Test
    void multiLineMessagesKeepTheFirstLine() {
        assertThat(Failures.oneLine(new IllegalStateException("first\nsecond"))).isEqualTo("first");
        assertThat(Failures.oneLine(new NullPointerException())).isEqualTo("NullPointerException");
    }
}
