package dev.distill.job.stages;

import dev.distill.datasets.softlabels.SoftLabelStore;
import dev.distill.datasets.spark.DatasetLoader;
import dev.distill.datasets.spark.SoftLabelReader;
import dev.distill.job.JobContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.Arrays;

/**
 * The soft labels a later stage reads: checked against the job (class count, the student's input length,
 * and the data key, so labels made from other data are never joined with this data set), then joined by id
 * with the split's features.
 */
public final class SoftLabels {
    private SoftLabels() {
    }

    /** Checked soft labels of one split, and their rows joined with the split's features. */
    public record Joined(SoftLabelStore.Info info, Dataset<Row> rows) {
    }

    /** Checks the soft labels of {@code split} ({@code "train"} or {@code "test"}) against the job. */
    public static SoftLabelStore.Info check(JobContext ctx, String split) {
        String dir = ctx.workspace().softLabels(split);
        SoftLabelStore.Info info = SoftLabelStore.inspect(ctx.workspace().hadoop(), dir);
        int numClasses = ctx.settings().dataset().numClasses();
        if (info.metadata().numClasses() != numClasses) {
            throw new IllegalArgumentException("soft labels in " + dir + " have " + info.metadata().numClasses()
                    + " classes but the student has " + numClasses + " (kd.dataset.num-classes)");
        }
        int[] expected = ctx.settings().inputShape();
        int expectedLength = Arrays.stream(expected).reduce(1, (a, b) -> a * b);
        if (expectedLength > 0 && info.metadata().featureLength() != expectedLength) {
            throw new IllegalArgumentException("soft labels in " + dir + " have " + info.metadata().featureLength()
                    + " features per row (input shape " + Arrays.toString(info.metadata().inputShape())
                    + ") but the student's input takes " + expectedLength + " (" + Arrays.toString(expected) + ")");
        }
        int views = "train".equals(split) ? ctx.settings().teacher().views() : 1;
        String augmentation = views > 1 ? ctx.settings().augmentation().toString() : "";
        if (info.metadata().views() != views || !info.metadata().augmentation().equals(augmentation)) {
            throw new IllegalArgumentException("soft labels in " + dir + " hold " + describeViews(info.metadata().views(),
                    info.metadata().augmentation()) + " per example but the job asks for " + describeViews(views,
                    augmentation) + " (kd.soft-labels.views, kd.augment); rerun `distill label <job.conf>`");
        }
        if (!info.metadata().dataKey().equals(ctx.dataKey(split))) {
            throw new IllegalArgumentException("soft labels in " + dir + " were made from other data than the "
                    + split + " split of kd.dataset (its settings, paths or file sizes changed since `distill label`);"
                    + " rerun `distill label <job.conf>`");
        }
        return info;
    }

    private static String describeViews(int n, String augmentation) {
        return n <= 1 ? "1 view (the image itself)" : n + " views (" + augmentation + ")";
    }

    /** The key prefix (then the int8 file's SHA-256) of the int8 file's test predictions export keeps for evaluate. */
    static final String INT8_PREDICTIONS = "int8 predictions ";

    /**
     * Up to {@link dev.distill.job.report.StageTable#MAX_ROWS} rows of the test split on the driver (features,
     * labels, the teacher's logits), collected once per run: export checks the int8 file on them and
     * evaluate's stage table measures every form on the same rows. {@code testRows} are the test split's
     * {@link #joined} rows the calling stage holds already.
     */
    public static dev.distill.job.report.StageTable.TestSet testSet(JobContext ctx, Dataset<Row> testRows) {
        return ctx.once("test set", () -> dev.distill.job.report.StageTable.TestSet.collect(testRows));
    }

    /** The soft labels of {@code split}, {@link #check checked}, joined by id with the split's features. */
    public static Joined joined(JobContext ctx, String split) {
        SoftLabelStore.Info info = check(ctx, split);
        DatasetLoader.Splits data = ctx.data();
        return new Joined(info, SoftLabelReader.read(ctx.spark(), ctx.workspace().softLabels(split), info.metadata(),
                "train".equals(split) ? data.train() : data.test()));
    }
}
