package dev.distill.job;

import org.apache.spark.SparkException;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;

import static org.assertj.core.api.Assertions.assertThat;

class TestFailures {
    /** The innermost message, or an outer one that contains it and adds the file it was reading. */
    @Test
    void theMessageThatNamesTheFileWins() {
        Throwable e = new RuntimeException("wrapper", new UncheckedIOException("cannot read x: gone",
                new java.io.IOException("gone")));
        assertThat(Failures.oneLine(e)).isEqualTo("cannot read x: gone");
        Throwable gz = new SparkException("Job aborted due to stage failure: Lost task 0.0:"
                + " java.lang.IllegalArgumentException: /d/x.csv.gz: cannot read past line 7 (Unexpected end of input"
                + " stream); is the file truncated or damaged?\n\tat a.b(C.java:1)\nCaused by: java.io.EOFException:"
                + " Unexpected end of input stream\n", new IllegalArgumentException("/d/x.csv.gz: cannot read past line 7"
                + " (Unexpected end of input stream); is the file truncated or damaged?",
                new java.io.EOFException("Unexpected end of input stream")));
        assertThat(Failures.oneLine(gz)).isEqualTo("/d/x.csv.gz: cannot read past line 7 (Unexpected end of input"
                + " stream); is the file truncated or damaged?");
        Throwable zip = new UncheckedIOException("cannot read /m/model.zip: invalid distance too far back",
                new java.util.zip.ZipException("invalid distance too far back"));
        assertThat(Failures.oneLine(zip)).isEqualTo("cannot read /m/model.zip: invalid distance too far back");
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
        SparkException caused = new SparkException("Job aborted: Lost task 0.0 (TID 3):"
                + " java.lang.IllegalArgumentException: /d/a.csv.gz: cannot read past line 3 (Unexpected end of input"
                + " stream); is the file truncated or damaged?\n\tat x.y(Z.java:3)\nCaused by: java.io.EOFException:"
                + " Unexpected end of input stream\n\tat q.r(S.java:9)\n");
        assertThat(Failures.oneLine(caused)).isEqualTo("/d/a.csv.gz: cannot read past line 3 (Unexpected end of input"
                + " stream); is the file truncated or damaged?");
    }

    @Test
    void multiLineMessagesKeepTheFirstLine() {
        assertThat(Failures.oneLine(new IllegalStateException("first\nsecond"))).isEqualTo("first");
        assertThat(Failures.oneLine(new NullPointerException())).isEqualTo("NullPointerException");
    }

    /**
     * A class that cannot be loaded (the jar rebuilt under a running JVM) is named with what to do, not only by
     * its name; a class whose static initialiser failed is reported as any other failure.
     */
    @Test
    void aMissingClassSaysWhatToDo() {
        Throwable e = new NoClassDefFoundError("dev/distill/job/report/Report$Epoch");
        e.initCause(new ClassNotFoundException("dev.distill.job.report.Report$Epoch"));
        assertThat(Failures.oneLine(new RuntimeException(e))).isEqualTo("class dev.distill.job.report.Report$Epoch cannot"
                + " be loaded (NoClassDefFoundError): the program's files changed while this run was going (a rebuild or"
                + " an upgrade?) or its class path is incomplete; rerun, and finished stages are kept");
        assertThat(Failures.oneLine(new NoClassDefFoundError("Could not initialize class org.nd4j.X")))
                .isEqualTo("Could not initialize class org.nd4j.X");
    }
}
