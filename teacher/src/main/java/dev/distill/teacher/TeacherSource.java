package dev.distill.teacher;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Where a teacher comes from and how to open it, on the driver or in an executor: a DL4J model zip, or an
 * ONNX file with the {@link OnnxTeacher.Options} that map the data set's rows onto it.
 *
 * @param format        {@code dl4j} or {@code onnx}
 * @param model         the model file (local path or Hadoop URI)
 * @param featureLength features per row of the data set
 * @param numClasses    classes of the data set
 * @param onnx          for ONNX models: input, output, input shape, logits or probabilities (else null)
 * @param others        further teachers labelling with this one as an {@link EnsembleTeacher} (none: this alone)
 */
public record TeacherSource(String format, String model, int featureLength, int numClasses,
                            OnnxTeacher.Options onnx, List<TeacherSource> others) implements Serializable {

    public TeacherSource {
        others = List.copyOf(others);
    }

    /** One teacher. */
    public TeacherSource(String format, String model, int featureLength, int numClasses, OnnxTeacher.Options onnx) {
        this(format, model, featureLength, numClasses, onnx, List.of());
    }

    /** This teacher and then the others: every model the labels come from. */
    public List<TeacherSource> members() {
        List<TeacherSource> all = new ArrayList<>();
        all.add(new TeacherSource(format, model, featureLength, numClasses, onnx));
        all.addAll(others);
        return all;
    }

    /** True when the labels are the ensemble of several teachers. */
    public boolean isEnsemble() {
        return !others.isEmpty();
    }

    /** {@code dl4j} or {@code onnx} for {@code format} = auto|dl4j|onnx and a model path (auto: by extension). */
    public static String formatOf(String format, String model) {
        if (!"auto".equals(format)) {
            return format;
        }
        return model.toLowerCase(java.util.Locale.ROOT).endsWith(".onnx") ? "onnx" : "dl4j";
    }

    /** A stable description (the same in every JVM), to pool opened teachers by. */
    public String key() {
        return format + "|" + model + "|" + featureLength + "|" + numClasses + (onnx == null ? "" : "|" + onnx.input()
                + "|" + onnx.output() + "|" + java.util.Arrays.toString(onnx.inputShape()) + "|" + onnx.probabilities())
                + others.stream().map(o -> " + " + o.key()).collect(Collectors.joining());
    }

    public boolean isOnnx() {
        return "onnx".equals(format);
    }

    /** Opens the teacher (every member of an ensemble) with {@code threads} threads for its inference. */
    public Teacher open(Configuration conf, int threads) {
        if (isEnsemble()) {
            List<Teacher> opened = new ArrayList<>();
            try {
                for (TeacherSource m : members()) {
                    opened.add(m.open(conf, threads));
                }
                return new EnsembleTeacher(opened, members().stream().map(TeacherSource::model).toList());
            } catch (RuntimeException e) {
                for (Teacher t : opened) {
                    if (t instanceof AutoCloseable c) {
                        try {
                            c.close();
                        } catch (Exception ignored) {
                            // the first failure is the one to report
                        }
                    }
                }
                throw e;
            }
        }
        Path p = new Path(model);
        try (InputStream in = p.getFileSystem(conf).open(p)) {
            if (isOnnx()) {
                return new OnnxTeacher(in.readAllBytes(), model, onnx, featureLength, numClasses, threads);
            }
            return new Dl4jTeacher(Dl4jTeacher.load(in, model), featureLength);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read teacher model " + model + ": " + e.getMessage(), e);
        }
    }
}
