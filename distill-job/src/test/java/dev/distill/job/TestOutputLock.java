package dev.distill.job;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TestOutputLock {
    @TempDir
    Path dir;

    @Test
    void aHeldFolderIsRefusedNamingTheHolder() throws Exception {
        Path out = dir.resolve("out");
        try (OutputLock held = OutputLock.acquire(out.toString(), "run a.conf", new Configuration())) {
            assertThat(held.takenOver()).isNull();
            assertThat(Files.readString(out.resolve(".lock"))).contains("\"command\":\"run a.conf\"",
                    "\"pid\":" + ProcessHandle.current().pid());
            assertThatThrownBy(() -> OutputLock.acquire(out.toString(), "run b.conf", new Configuration()))
                    .isInstanceOf(OutputLock.BusyException.class)
                    .hasMessageStartingWith(out + " is in use by another distill run (pid " + ProcessHandle.current().pid()
                            + " on ")
                    .hasMessageContaining(", `run a.conf`, since ")
                    .hasMessageEndingWith("); wait for it to finish, or choose another kd.output-dir");
        }
        assertThat(Files.readString(out.resolve(".lock"))).as("released: emptied").isEmpty();
        try (OutputLock again = OutputLock.acquire(out.toString(), "run b.conf", new Configuration())) {
            assertThat(again.takenOver()).isNull();
        }
    }

    /** A lock file left by a run that was killed (the OS lock went with it) is taken over, and the run says so. */
    @Test
    void aLockLeftByADeadRunIsTakenOver() throws Exception {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve(".lock"), "{\"pid\":999999999,\"host\":\"h\",\"command\":\"run x.conf\","
                + "\"since\":\"2026-11-29T10:00:00Z\"}\n");
        try (OutputLock lock = OutputLock.acquire(out.toString(), "run y.conf", new Configuration())) {
            assertThat(lock.takenOver()).isEqualTo("took over the lock of pid 999999999 on h, `run x.conf`, since"
                    + " 2026-11-29T10:00:00Z, which is no longer running");
        }
    }
}
