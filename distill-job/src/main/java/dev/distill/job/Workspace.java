package dev.distill.job;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * The layout of a job's output folder and atomic writes into it (write a hidden temporary file, then
 * rename), on any Hadoop file system:
 * <pre>
 *   teacher/model.zip, teacher/checkpoint.bin, teacher/history.json, teacher/provenance.json
 *   soft-labels/train/, soft-labels/test/          (the Parquet contract)
 *   student/…, baseline/…                          (same files as teacher/)
 *   report/report.json
 *   export/student.zip, export/provenance.json
 *   logs/distill-*.log
 * </pre>
 */
public final class Workspace {
    private final String root;
    private final Configuration conf;

    public Workspace(String root, Configuration conf) {
        this.root = root;
        this.conf = conf;
    }

    public String root() {
        return root;
    }

    public Configuration hadoop() {
        return conf;
    }

    public String path(String... parts) {
        Path p = new Path(root);
        for (String part : parts) {
            p = new Path(p, part);
        }
        return p.toString();
    }

    public String model(String who) {
        return path(who, "model.zip");
    }

    public String checkpoint(String who) {
        return path(who, "checkpoint.bin");
    }

    public String softLabels(String split) {
        return path("soft-labels", split);
    }

    /** True when {@code path} is a file (not a folder). */
    public boolean isFile(String path) {
        try {
            Path p = new Path(path);
            return p.getFileSystem(conf).getFileStatus(p).isFile();
        } catch (IOException e) {
            return false;
        }
    }

    public boolean exists(String path) {
        try {
            Path p = new Path(path);
            return p.getFileSystem(conf).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + path + ": " + e.getMessage(), e);
        }
    }

    public long size(String path) {
        try {
            Path p = new Path(path);
            return p.getFileSystem(conf).getFileStatus(p).getLen();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code path} through a temporary file and one rename, so readers never see half a file. */
    public void writeAtomically(String path, dev.distill.datasets.AtomicFile.Writer writer) {
        dev.distill.datasets.AtomicFile.write(conf, path, writer);
    }

    public void writeString(String path, String content) {
        writeAtomically(path, out -> out.write(content.getBytes(StandardCharsets.UTF_8)));
    }

    public String readString(String path) {
        return new String(readBytes(path), StandardCharsets.UTF_8);
    }

    /**
     * A new, empty hidden folder beside {@code <root>/<folder>} for a stage to fill before it
     * {@link #publish publishes} it as that folder.
     */
    public String createStaging(String folder) {
        String staging = path(dev.distill.datasets.AtomicFile.temporaryName(folder));
        try {
            Path p = new Path(staging);
            if (!p.getFileSystem(conf).mkdirs(p)) {
                throw new IOException("mkdirs returned false");
            }
            return staging;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + staging + ": " + e.getMessage(), e);
        }
    }

    /**
     * Replaces the folder {@code target} with {@code staging} (from {@link #createStaging}): the old folder is
     * renamed aside, the new one renamed into place, then the old one removed. Readers see the old folder or
     * the new one, never a mix; a process killed between the two renames leaves the old folder aside under a
     * temporary name, which {@link #removeTemporaries} clears.
     */
    public void publish(String staging, String target) {
        try {
            Path dst = new Path(target);
            FileSystem fs = dst.getFileSystem(conf);
            Path old = null;
            if (fs.exists(dst)) {
                old = new Path(dst.getParent(), dev.distill.datasets.AtomicFile.temporaryName(dst.getName() + ".old"));
                if (!fs.rename(dst, old)) {
                    throw new IOException("rename " + dst + " -> " + old + " failed");
                }
            }
            if (!fs.rename(new Path(staging), dst)) {
                throw new IOException("rename " + staging + " -> " + dst + " failed");
            }
            if (old != null) {
                fs.delete(old, true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot publish " + target + ": " + e.getMessage(), e);
        }
    }

    /** Deletes {@code path} and everything under it, if it exists. */
    public void deleteRecursively(String path) {
        try {
            Path p = new Path(path);
            p.getFileSystem(conf).delete(p, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Removes the temporary files and folders that writers killed or failed in an earlier run left in the
     * output folder and its sub-folders (hidden names with {@value dev.distill.datasets.AtomicFile#TEMP_MARK},
     * see {@link dev.distill.datasets.AtomicFile#isTemporary}); returns their paths. Call it only while
     * holding the output folder's lock, so that no other run is writing them.
     */
    public java.util.List<String> removeTemporaries() {
        java.util.List<String> removed = new java.util.ArrayList<>();
        try {
            Path top = new Path(root);
            FileSystem fs = top.getFileSystem(conf);
            if (!fs.exists(top)) {
                return removed;
            }
            java.util.List<Path> dirs = new java.util.ArrayList<>(java.util.List.of(top));
            for (org.apache.hadoop.fs.FileStatus s : fs.listStatus(top)) {
                if (s.isDirectory() && !dev.distill.datasets.AtomicFile.isTemporary(s.getPath().getName())) {
                    dirs.add(s.getPath());
                }
            }
            for (Path dir : dirs) {
                for (org.apache.hadoop.fs.FileStatus s : fs.listStatus(dir)) {
                    String name = s.getPath().getName();
                    if (dev.distill.datasets.AtomicFile.isTemporary(name)) {
                        fs.delete(s.getPath(), true);
                        removed.add(s.getPath().toString());
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up temporary files in " + root + ": " + e.getMessage(), e);
        }
        return removed;
    }

    /** Deletes {@code path} if it exists. */
    public void delete(String path) {
        try {
            Path p = new Path(path);
            p.getFileSystem(conf).delete(p, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path + ": " + e.getMessage(), e);
        }
    }

    public byte[] readBytes(String path) {
        try (InputStream in = open(path)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    public InputStream open(String path) {
        try {
            Path p = new Path(path);
            FSDataInputStream in = p.getFileSystem(conf).open(p);
            return new java.io.BufferedInputStream(in, 1 << 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    public void copy(String from, String to) {
        writeAtomically(to, out -> {
            try (InputStream in = open(from)) {
                in.transferTo(out);
            }
        });
    }

    /** Hashes already computed in this run, by path, length and modification time. */
    private final java.util.Map<String, String> hashes = new java.util.HashMap<>();

    /**
     * SHA-256 of a file's bytes, read once per run while the file is unchanged: a run's stage keys, the
     * labelling metadata and the report all ask for the teacher's, which can be gigabytes.
     */
    public String sha256(String path) {
        try {
            Path p = new Path(path);
            org.apache.hadoop.fs.FileStatus st = p.getFileSystem(conf).getFileStatus(p);
            String key = st.getPath() + "\n" + st.getLen() + "\n" + st.getModificationTime();
            String known = hashes.get(key);
            if (known == null) {
                known = readSha256(path);
                hashes.put(key, known);
            }
            return known;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private String readSha256(String path) {
        try (InputStream in = open(path)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
