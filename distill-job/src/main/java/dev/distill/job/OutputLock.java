package dev.distill.job;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;

/**
 * One run at a time per output folder: {@code <output-dir>/.lock} names the run that holds it (process,
 * host, command, start time). Two runs into one folder would overwrite each other's files and lose lines of
 * the metrics and histories. On a local file system the lock is the operating system's (released when the
 * process ends, however it ends), so a lock file left by a killed run is taken over, and the run says so.
 * On other file systems (HDFS, S3) the file is created only if absent; one left by a dead process on this
 * host is taken over, one from another host must be removed by hand (the message says which file).
 */
public final class OutputLock implements AutoCloseable {
    static final String FILE = ".lock";

    /** The folder is held by another run; the message says by whom and what to do. */
    public static final class BusyException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BusyException(String message) {
            super(message);
        }
    }

    private final FileChannel channel;
    private final FileLock lock;
    private final Path remote;
    private final Configuration conf;
    private final String takenOver;

    private OutputLock(FileChannel channel, FileLock lock, Path remote, Configuration conf, String takenOver) {
        this.channel = channel;
        this.lock = lock;
        this.remote = remote;
        this.conf = conf;
        this.takenOver = takenOver;
    }

    /** A note when this run took over a lock that a run which is no longer running left behind, else null. */
    public String takenOver() {
        return takenOver;
    }

    /** Takes the lock of {@code outputDir} for {@code what} (e.g. "run conf/x.conf"), creating the folder. */
    public static OutputLock acquire(String outputDir, String what, Configuration conf) {
        String holder = Json.line(Map.of("pid", ProcessHandle.current().pid(), "host", host(), "command", what,
                "since", Instant.now().toString()));
        java.nio.file.Path local = dev.distill.datasets.DatasetSettings.localPath(outputDir);
        try {
            if (local != null && isLocal(outputDir, conf)) {
                return local(local, holder);
            }
            return remote(new Path(outputDir, FILE), holder, conf);
        } catch (IOException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file or folder: " + e.getMessage()
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied: " + e.getMessage()
                    : e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() + ": "
                    + f.getFile() : e.getMessage();
            throw new UncheckedIOException(why, e);
        }
    }

    private static boolean isLocal(String path, Configuration conf) throws IOException {
        return path.startsWith("file:") || new Path(path).getFileSystem(conf).getScheme().equals("file");
    }

    private static OutputLock local(java.nio.file.Path dir, String holder) throws IOException {
        Files.createDirectories(dir);
        java.nio.file.Path file = dir.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;   // held by another run in this JVM
        }
        String previous = read(channel);
        if (lock == null) {
            channel.close();
            throw busy(dir.toString(), previous, "");
        }
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((holder + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        channel.force(true);
        return new OutputLock(channel, lock, null, null, previous.isBlank() ? null : left(previous));
    }

    private static OutputLock remote(Path file, String holder, Configuration conf) throws IOException {
        FileSystem fs = file.getFileSystem(conf);
        fs.mkdirs(file.getParent());
        String takenOver = null;
        if (fs.exists(file)) {
            String previous;
            try (FSDataInputStream in = fs.open(file)) {
                previous = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!deadOnThisHost(previous)) {
                throw busy(file.getParent().toString(), previous, "; if no run holds it, delete " + file);
            }
            takenOver = left(previous);
            fs.delete(file, false);
        }
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write((holder + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (org.apache.hadoop.fs.FileAlreadyExistsException e) {
            throw busy(file.getParent().toString(), "", "");
        }
        return new OutputLock(null, null, file, conf, takenOver);
    }

    private static boolean deadOnThisHost(String previous) {
        try {
            Map<String, Object> m = Json.read(previous);
            long pid = ((Number) m.get("pid")).longValue();
            return host().equals(m.get("host")) && ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String read(FileChannel channel) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(channel.size(), 1 << 16));
        channel.read(b, 0);
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
    }

    /** "pid 123 on host h, `run x.conf`, since T" from the lock file's JSON (or the text as it is). */
    private static String describe(String json) {
        try {
            Map<String, Object> m = Json.read(json);
            return "pid " + m.get("pid") + " on " + m.get("host") + ", `" + m.get("command") + "`"
                    + (m.get("since") != null ? ", since " + m.get("since") : "");
        } catch (RuntimeException e) {
            return json.isBlank() ? "another run" : json;
        }
    }

    private static BusyException busy(String dir, String holder, String hint) {
        return new BusyException(dir + " is in use by another distill run (" + describe(holder)
                + "); wait for it to finish, or choose another kd.output-dir" + hint);
    }

    private static String left(String previous) {
        return "took over the lock of " + describe(previous) + ", which is no longer running";
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Releases the lock: the local file is emptied (kept, so that waiting runs lock the same file). */
    @Override
    public void close() {
        try {
            if (channel != null) {
                channel.truncate(0);
                lock.release();
                channel.close();
            } else {
                remote.getFileSystem(conf).delete(remote, false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot release the lock " + (remote != null ? remote : FILE) + ": "
                    + e.getMessage(), e);
        }
    }
}
