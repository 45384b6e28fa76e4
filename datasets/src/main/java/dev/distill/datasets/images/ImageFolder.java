package dev.distill.datasets.images;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The listing of an image folder, made on the driver through Hadoop's file system (any URI works): with
 * labels, one sub-folder per class (the classes are the folder names in sorted order, label 0 first; the
 * images lie at any depth below their class folder); without, every image at any depth.
 *
 * <p>Images are files named {@code *.png}, {@code *.jpg}, {@code *.jpeg}, {@code *.bmp} or {@code *.gif} (any
 * case); files and folders whose names start with {@code .} or {@code _} are skipped (as Hadoop and Spark do),
 * and other files are counted in {@link #ignored()} so the caller can say so. An image's id is a 63-bit hash
 * of its path relative to the root ({@link #pathHash}): the same on every run and cluster, unchanged when other
 * images are added or removed (and so are the held-out split and the labelled share, which hash the id), and
 * in id order the first N images ({@code max-train-rows}) are a sample of every class rather than the first
 * class. Two paths with one hash (about one chance in 10⁷ for a million images) are an error naming both.
 */
public final class ImageFolder {
    /** File-name endings read as images (lower case). */
    public static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");

    /** One image: its id, path relative to the root ('/'-separated), size in bytes and label (-1 = none). */
    public record Entry(long id, String path, long size, int label) implements java.io.Serializable {
    }

    private final String root;
    private final List<String> classes;
    private final List<Entry> entries;
    private final List<String> ignored;

    private ImageFolder(String root, List<String> classes, List<Entry> entries, List<String> ignored) {
        this.root = root;
        this.classes = classes;
        this.entries = entries;
        this.ignored = ignored;
    }

    /**
     * Lists {@code root}. With {@code classes} null and {@code labelled}, the classes are the root's
     * sub-folders; a non-null {@code classes} (the training folder's, for a test folder) maps folder names to
     * labels, and a folder not among them is an error. Throws {@link IllegalArgumentException} naming the
     * folder and what is wrong.
     */
    public static ImageFolder list(Configuration conf, String root, boolean labelled, List<String> classes) {
        try {
            Path rootPath = new Path(root);
            FileSystem fs = rootPath.getFileSystem(conf);
            if (!fs.exists(rootPath) || !fs.getFileStatus(rootPath).isDirectory()) {
                throw new IllegalArgumentException(root + ": no such folder; format = image-folder reads a folder"
                        + (labelled ? " with one sub-folder of images per class" : " of images"));
            }
            Path qualified = fs.makeQualified(rootPath);
            String prefix = qualified.toUri().getPath();
            prefix = prefix.endsWith("/") ? prefix : prefix + "/";
            // Files are named by absolute local paths, or full URIs elsewhere: a relative root would be read
            // from each executor's working folder on a cluster.
            String base = fs instanceof org.apache.hadoop.fs.LocalFileSystem ? prefix
                    : qualified.toString().endsWith("/") ? qualified.toString() : qualified + "/";
            List<String> names = classes;
            if (labelled && names == null) {
                names = classFolders(conf, root);
                if (names.isEmpty()) {
                    throw new IllegalArgumentException(root + " has no class folders; with kd.dataset.image-folder"
                            + ".labels = folders it holds one sub-folder of images per class (or set labels = none"
                            + " for unlabelled images)");
                }
            }
            Map<String, Integer> labelOf = new java.util.HashMap<>();
            if (names != null) {
                for (int i = 0; i < names.size(); i++) {
                    labelOf.put(names.get(i), i);
                }
            }
            List<String> paths = new ArrayList<>();
            List<Long> sizes = new ArrayList<>();
            List<String> ignored = new ArrayList<>();
            // A walk of listStatus calls, not listFiles: on the local file system listFiles builds a
            // LocatedFileStatus per file, which runs `ls -ld` (a process) for each one's permissions.
            java.util.ArrayDeque<Path> folders = new java.util.ArrayDeque<>(List.of(qualified));
            while (!folders.isEmpty()) {
                for (FileStatus st : fs.listStatus(folders.pop())) {
                    String full = st.getPath().toUri().getPath();
                    if (!full.startsWith(prefix)) {
                        throw new IllegalStateException(full + " is not below " + prefix);
                    }
                    String rel = full.substring(prefix.length());
                    if (hidden(st.getPath().getName())) {
                        continue;
                    }
                    if (st.isDirectory()) {
                        folders.push(st.getPath());
                    } else if (EXTENSIONS.contains(extension(rel))) {
                        paths.add(rel);
                        sizes.add(st.getLen());
                    } else {
                        ignored.add(rel);
                    }
                }
            }
            List<Entry> entries = order(root, paths, sizes, labelled ? labelOf : null);
            if (entries.isEmpty()) {
                throw new IllegalArgumentException(root + " holds no images (files ending in .png, .jpg, .jpeg, .bmp"
                        + " or .gif" + (ignored.isEmpty() ? "" : "; it holds " + ignored.size() + " other files, such as "
                        + ignored.get(0)) + ")");
            }
            ignored.sort(null);
            return new ImageFolder(base, names == null ? List.of() : List.copyOf(names), entries, List.copyOf(ignored));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    /** The class folders of {@code root} (sub-folders not starting with . or _), sorted: the class names. */
    public static List<String> classFolders(Configuration conf, String root) {
        try {
            Path rootPath = new Path(root);
            FileSystem fs = rootPath.getFileSystem(conf);
            List<String> names = new ArrayList<>();
            for (FileStatus st : fs.listStatus(rootPath)) {
                if (st.isDirectory() && !hidden(st.getPath().getName())) {
                    names.add(st.getPath().getName());
                }
            }
            names.sort(null);
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    /** The entries in id order (the hash of the relative path); two paths with one id are an error. */
    private static List<Entry> order(String root, List<String> paths, List<Long> sizes, Map<String, Integer> labelOf) {
        record Keyed(long hash, String path, long size) {
        }
        List<Keyed> keyed = new ArrayList<>(paths.size());
        for (int i = 0; i < paths.size(); i++) {
            keyed.add(new Keyed(pathHash(paths.get(i)), paths.get(i), sizes.get(i)));
        }
        keyed.sort(Comparator.comparingLong(Keyed::hash).thenComparing(Keyed::path));
        for (int i = 1; i < keyed.size(); i++) {
            if (keyed.get(i).hash() == keyed.get(i - 1).hash()) {
                throw new IllegalArgumentException(root + ": " + keyed.get(i - 1).path() + " and " + keyed.get(i).path()
                        + " have the same id (a hash of the path); rename one of them");
            }
        }
        List<Entry> out = new ArrayList<>(keyed.size());
        for (Keyed k : keyed) {
            int label = -1;
            if (labelOf != null) {
                int slash = k.path().indexOf('/');
                if (slash < 0) {
                    throw new IllegalArgumentException(root + "/" + k.path() + " lies directly in the root folder;"
                            + " with kd.dataset.image-folder.labels = folders every image lies in the folder of its class"
                            + " (or set labels = none for unlabelled images)");
                }
                String folder = k.path().substring(0, slash);
                Integer l = labelOf.get(folder);
                if (l == null) {
                    throw new IllegalArgumentException(root + "/" + folder + " is not a class of the training folder,"
                            + " whose classes are " + abbreviate(new ArrayList<>(labelOf.keySet())) + "; the test folder's"
                            + " class folders must be among them");
                }
                label = l;
            }
            out.add(new Entry(k.hash(), k.path(), k.size(), label));
        }
        return out;
    }

    /**
     * The first 8 bytes of SHA-256 of the UTF-8 path, big-endian, with the sign bit cleared: a non-negative id,
     * fixed forever (soft labels made earlier join by it).
     */
    public static long pathHash(String path) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(path.getBytes(StandardCharsets.UTF_8));
            long h = 0;
            for (int i = 0; i < 8; i++) {
                h = (h << 8) | (d[i] & 0xff);
            }
            return h & Long.MAX_VALUE;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String abbreviate(List<String> names) {
        names.sort(null);
        return names.size() <= 8 ? String.join(", ", names)
                : String.join(", ", names.subList(0, 6)) + ", ... (" + names.size() + " in all)";
    }

    private static boolean hidden(String name) {
        return name.startsWith(".") || name.startsWith("_");
    }

    static String extension(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 || dot < path.lastIndexOf('/') ? "" : path.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /**
     * The folder as files below it are named: an absolute local path ending in '/', or a full URI on other file
     * systems; messages name files as root + relative path.
     */
    public String root() {
        return root;
    }

    /** The class names in label order (empty without labels). */
    public List<String> classes() {
        return classes;
    }

    /** The images in id order. */
    public List<Entry> entries() {
        return entries;
    }

    /** Files that are not images (relative paths, sorted). */
    public List<String> ignored() {
        return ignored;
    }

    /** SHA-256 (hex) of the listing: classes, and every image's path, size and label in id order. */
    public String fingerprint() {
        StringBuilder b = new StringBuilder("classes=").append(classes);
        for (Entry e : entries) {
            b.append('\n').append(e.path()).append('\t').append(e.size()).append('\t').append(e.label());
        }
        return dev.distill.datasets.Sha256.of(b.toString());
    }
}
