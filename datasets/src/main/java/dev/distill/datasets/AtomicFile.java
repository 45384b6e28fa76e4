package dev.distill.datasets;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Replaces a file so that a reader, or a process killed at any moment, sees either the old content or the
 * new, never half of it and never neither: the content goes to a hidden temporary file beside the target
 * ({@code .<name>.tmp-<random>}, unique per writer, so concurrent writers never share one), which is then
 * renamed over the target in one step. On a local file system that is an atomic {@code rename(2)} through
 * java.nio (Hadoop's local file system renames by delete-then-rename, and adds {@code .crc} companions that
 * must then move too); elsewhere {@link FileContext#rename} with {@code OVERWRITE}, which is atomic on HDFS.
 * A temporary file left by a killed writer starts with {@code .} and contains {@value #TEMP_MARK}; see
 * {@link #isTemporary}.
 */
public final class AtomicFile {
    /** Part of the name of every temporary file and folder the project writes. */
    public static final String TEMP_MARK = ".tmp-";

    private AtomicFile() {
    }

    /** Something that writes a file's content to a stream. */
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** True for the name of a temporary file or folder left by a writer ({@code .<name>.tmp-<random>}). */
    public static boolean isTemporary(String name) {
        return name.startsWith(".") && name.contains(TEMP_MARK);
    }

    /** A fresh temporary name beside {@code target}. */
    public static String temporaryName(String targetName) {
        return "." + targetName + TEMP_MARK + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Writes {@code path} (a local path or a Hadoop URI) through a temporary file and one rename. */
    public static void write(Configuration conf, String path, Writer writer) {
        try {
            java.nio.file.Path local = DatasetSettings.localPath(path);
            if (local != null && isLocal(conf, path)) {
                writeLocal(local, writer);
            } else {
                writeHadoop(conf, new Path(path), writer);
            }
        } catch (IOException | RuntimeException e) {
            throw new UncheckedIOException("cannot write " + path + ": " + message(e),
                    e instanceof IOException io ? io : new IOException(e));
        }
    }

    private static boolean isLocal(Configuration conf, String path) throws IOException {
        return path.startsWith("file:") || new Path(path).getFileSystem(conf).getScheme().equals("file");
    }

    private static void writeLocal(java.nio.file.Path dst, Writer writer) throws IOException {
        java.nio.file.Path dir = dst.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        java.nio.file.Path tmp = dir.resolve(temporaryName(dst.getFileName().toString()));
        try {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                writer.write(out);
            }
            // A .crc companion written by Hadoop for an earlier version of the file would not match the new one.
            Files.deleteIfExists(dir.resolve("." + dst.getFileName() + ".crc"));
            Files.move(tmp, dst, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writeHadoop(Configuration conf, Path dst, Writer writer) throws IOException {
        FileSystem fs = dst.getFileSystem(conf);
        Path tmp = new Path(dst.getParent(), temporaryName(dst.getName()));
        fs.mkdirs(dst.getParent());
        try {
            try (OutputStream out = fs.create(tmp, true)) {
                writer.write(out);
            }
            FileContext.getFileContext(dst.toUri(), conf).rename(tmp, dst, Options.Rename.OVERWRITE);
        } finally {
            fs.delete(tmp, false);
        }
    }

    private static String message(Throwable e) {
        if (e instanceof java.nio.file.NoSuchFileException n) {
            return "no such file or folder: " + n.getFile();
        }
        if (e instanceof java.nio.file.AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason() + ": " + f.getFile();
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
