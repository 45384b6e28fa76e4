package dev.distill.job;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
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
