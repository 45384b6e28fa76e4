package dev.distill.job;

import dev.distill.datasets.images.ImageFiles;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code distill idx-to-images <images.idx> <labels.idx | ""> <target> [--format png|jpeg] [--class-names a,b,...]
 * [--limit N]}: writes an IDX data set as image files, the way users keep images: a folder with one sub-folder
 * per class ({@code <target>} a folder) or a Hugging Face style Parquet file ({@code <target>} ending in
 * {@code .parquet}). It makes the image-folder example's data from Fashion-MNIST; an existing target is refused,
 * so nothing is overwritten.
 */
final class IdxToImages {
    static final String USAGE = """
            usage: distill idx-to-images <images.idx[.gz]> <labels.idx[.gz] | ""> <folder | file.parquet>
                                         [--format png|jpeg] [--class-names "a,b,..."] [--limit N]
            """;

    private IdxToImages() {
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> positional = new ArrayList<>();
        String format = "png";
        List<String> names = List.of();
        int limit = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (a) {
                case "--format" -> {
                    if (!"png".equals(value) && !"jpeg".equals(value)) {
                        err.println("distill idx-to-images: --format is png or jpeg, not " + value);
                        return 2;
                    }
                    format = value;
                    i++;
                }
                case "--class-names" -> {
                    if (value == null) {
                        err.println("distill idx-to-images: --class-names needs a comma-separated list");
                        return 2;
                    }
                    names = Arrays.stream(value.split(",", -1)).map(String::strip).toList();
                    i++;
                }
                case "--limit" -> {
                    if (value == null || !value.matches("[0-9]{1,9}")) {
                        err.println("distill idx-to-images: --limit takes a whole number of images, not " + value);
                        return 2;
                    }
                    limit = Integer.parseInt(value);
                    i++;
                }
                default -> {
                    if (a.startsWith("--")) {
                        err.println("distill idx-to-images: unknown option " + a);
                        err.print(USAGE);
                        return 2;
                    }
                    positional.add(a);
                }
            }
        }
        if (positional.size() != 3) {
            err.println("distill idx-to-images: expected an images file, a labels file (or \"\") and a target, got "
                    + positional);
            err.print(USAGE);
            return 2;
        }
        Path images = Path.of(positional.get(0));
        Path labels = positional.get(1).isBlank() ? null : Path.of(positional.get(1));
        Path target = Path.of(positional.get(2));
        for (Path p : labels == null ? List.of(images) : List.of(images, labels)) {
            if (!Files.isRegularFile(p)) {
                err.println("distill idx-to-images: no such file: " + p);
                return 2;
            }
        }
        if (Files.exists(target)) {
            err.println("distill idx-to-images: " + target + " exists; choose a new folder or file (nothing is"
                    + " overwritten)");
            return 2;
        }
        try {
            List<ImageFiles.Image> all = ImageFiles.readIdx(images, labels, limit);
            int classes = all.stream().mapToInt(ImageFiles.Image::label).max().orElse(-1) + 1;
            if (!names.isEmpty() && names.size() < classes) {
                err.println("distill idx-to-images: --class-names gives " + names.size() + " names but the labels go"
                        + " up to " + (classes - 1) + "; give one name per class, label 0 first");
                return 2;
            }
            boolean parquet = target.getFileName().toString().endsWith(".parquet");
            // Without names: folders named by the label alone, and the label numbers as the file's class names.
            List<String> classNames = !names.isEmpty() ? names : java.util.stream.IntStream.range(0, classes)
                    .mapToObj(k -> parquet ? String.valueOf(k) : "").toList();
            classes = classNames.size();
            Path parent = target.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path partial = Files.createTempDirectory(parent, "." + target.getFileName() + ".");
            try {
                Path staged = partial.resolve(target.getFileName());
                if (parquet) {
                    ImageFiles.writeHuggingFaceParquet(staged, all, classNames, format);
                } else {
                    ImageFiles.writeFolder(staged, all, classNames, format);
                }
                Files.move(staged, target);   // whole or not at all
            } finally {
                try (var walk = Files.walk(partial)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
            out.println("wrote " + all.size() + " images " + (parquet ? "as a Hugging Face Parquet file " : "in "
                    + Math.max(classes, 0) + " class folders under ") + target);
            return 0;
        } catch (Exception e) {
            err.println("distill idx-to-images failed: " + Failures.oneLine(e));
            return 1;
        }
    }
}
