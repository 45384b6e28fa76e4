package dev.distill.datasets.images;

import dev.distill.datasets.IdxFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes images as users keep them: a folder with one sub-folder per class, or a Parquet file in the Hugging
 * Face layout ({@code image} struct {@code {bytes, path}}, {@code label} int64, the class names in the footer's
 * {@code huggingface} metadata). {@code distill idx-to-images} uses it to turn an IDX data set into either, and
 * the tests to make image data from Fashion-MNIST.
 */
public final class ImageFiles {
    /** The Hugging Face layout's schema (what {@code datasets} writes for an Image and a ClassLabel feature). */
    static final MessageType HF_SCHEMA = MessageTypeParser.parseMessageType("""
            message schema {
              optional group image {
                optional binary bytes;
                optional binary path (STRING);
              }
              optional int64 label;
            }""");

    private ImageFiles() {
    }

    /** One image: pixels in [0, 255] as {@code channels × height × width}, and its label (-1 = none). */
    public record Image(float[] pixels, int channels, int height, int width, int label) {
    }

    /** Encodes an image as {@code format} ("png" or "jpeg"): 8-bit grey for one channel, RGB for three. */
    public static byte[] encode(Image image, String format) {
        int h = image.height();
        int w = image.width();
        BufferedImage out = new BufferedImage(w, h, image.channels() == 1 ? BufferedImage.TYPE_BYTE_GRAY
                : BufferedImage.TYPE_INT_RGB);
        int plane = h * w;
        float[] p = image.pixels();
        if (image.channels() == 1) {
            int[] grey = new int[plane];
            for (int i = 0; i < plane; i++) {
                grey[i] = byteOf(p[i]);
            }
            out.getRaster().setSamples(0, 0, w, h, 0, grey);
        } else {
            int[] rgb = new int[plane];
            for (int i = 0; i < plane; i++) {
                rgb[i] = byteOf(p[i]) << 16 | byteOf(p[plane + i]) << 8 | byteOf(p[2 * plane + i]);
            }
            out.setRGB(0, 0, w, h, rgb, 0, w);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(out, format, bytes)) {
                throw new IllegalArgumentException("no image writer for format '" + format + "'; use png or jpeg");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static int byteOf(float v) {
        return Math.max(0, Math.min(255, Math.round(v)));
    }

    /**
     * Writes {@code images} into {@code root} as {@code <class folder>/<index>.<format>}, the class folders
     * named by {@link #folderNames}; unlabelled images go straight into {@code root}.
     */
    public static void writeFolder(Path root, List<Image> images, List<String> classNames, String format)
            throws IOException {
        List<String> folders = folderNames(classNames);
        for (String f : folders) {
            Files.createDirectories(root.resolve(f));
        }
        Files.createDirectories(root);
        String ext = "jpeg".equals(format) ? "jpg" : format;
        for (int i = 0; i < images.size(); i++) {
            Image im = images.get(i);
            Path dir = im.label() < 0 ? root : root.resolve(folders.get(im.label()));
            Files.write(dir.resolve(String.format(java.util.Locale.ROOT, "%05d.%s", i, ext)), encode(im, format));
        }
    }

    /**
     * Folder names that sort in label order: the label zero-padded, a dash, and the class name with characters
     * a file name cannot hold replaced ({@code "T-shirt/top"} as label 0 of 10 becomes {@code "0-T-shirt-top"});
     * a blank name leaves the number alone.
     */
    public static List<String> folderNames(List<String> classNames) {
        int digits = String.valueOf(Math.max(0, classNames.size() - 1)).length();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < classNames.size(); i++) {
            String name = classNames.get(i).strip().replaceAll("[/\\\\:*?\"<>|]", "-");
            out.add(String.format(java.util.Locale.ROOT, "%0" + digits + "d", i) + (name.isEmpty() ? "" : "-" + name));
        }
        return out;
    }

    /** Writes {@code images} as one Parquet file in the Hugging Face layout, naming the classes in its metadata. */
    public static void writeHuggingFaceParquet(Path file, List<Image> images, List<String> classNames, String format)
            throws IOException {
        StringBuilder names = new StringBuilder();
        for (String n : classNames) {
            names.append(names.length() == 0 ? "" : ", ").append('"').append(n.replace("\\", "\\\\")
                    .replace("\"", "\\\"")).append('"');
        }
        String meta = "{\"info\": {\"features\": {\"image\": {\"_type\": \"Image\"}, \"label\": {\"names\": ["
                + names + "], \"_type\": \"ClassLabel\"}}}}";
        SimpleGroupFactory groups = new SimpleGroupFactory(HF_SCHEMA);
        try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new org.apache.hadoop.fs.Path(file.toUri()))
                .withConf(new Configuration()).withType(HF_SCHEMA).withExtraMetaData(Map.of("huggingface", meta))
                .build()) {
            for (int i = 0; i < images.size(); i++) {
                Image im = images.get(i);
                Group g = groups.newGroup();
                g.addGroup("image").append("bytes", Binary.fromConstantByteArray(encode(im, format)))
                        .append("path", String.format(java.util.Locale.ROOT, "%05d.%s", i, "jpeg".equals(format) ? "jpg" : format));
                if (im.label() >= 0) {
                    g.append("label", (long) im.label());
                }
                w.write(g);
            }
        }
    }

    /** The first {@code limit} images (all when 0) of an IDX images file and its labels file ("" = none). */
    public static List<Image> readIdx(Path images, Path labels, int limit) throws IOException {
        try (InputStream ri = Files.newInputStream(images);
             DataInputStream img = new DataInputStream(IdxFile.maybeGunzip(ri));
             InputStream rl = labels == null ? null : Files.newInputStream(labels);
             DataInputStream lab = labels == null ? null : new DataInputStream(IdxFile.maybeGunzip(rl))) {
            IdxFile.Header h = IdxFile.readHeader(img, images.toString());
            if (h.dims().length != 3) {
                throw new IllegalArgumentException(images + ": expected grey images [n, rows, cols], found " + h);
            }
            if (lab != null) {
                IdxFile.readHeader(lab, labels.toString());
            }
            int n = limit > 0 ? Math.min(limit, h.records()) : h.records();
            int rows = h.dims()[1];
            int cols = h.dims()[2];
            byte[] buf = new byte[rows * cols];
            List<Image> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                IdxFile.readFully(img, buf, images.toString());
                float[] px = new float[buf.length];
                for (int j = 0; j < px.length; j++) {
                    px[j] = buf[j] & 0xff;
                }
                int label = -1;
                if (lab != null) {
                    label = lab.read();
                    if (label < 0) {
                        throw new IOException(labels + ": truncated at record " + i);
                    }
                }
                out.add(new Image(px, 1, rows, cols, label));
            }
            return out;
        }
    }
}
