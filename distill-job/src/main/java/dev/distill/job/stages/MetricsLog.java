package dev.distill.job.stages;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.distill.job.Json;
import dev.distill.job.Workspace;
import dev.distill.student.spark.EpochStats;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code report/metrics.jsonl}: one JSON object per line per trained epoch, {@code model} naming the
 * network. Training a network replaces that network's earlier lines and keeps the others'; the file is
 * rewritten atomically after every epoch, so a reader never sees half a line.
 */
final class MetricsLog {
    static final String FILE = "metrics.jsonl";

    /** One line of the file. */
    record Line(String time, String model, int epoch, int epochs, double loss,
                @JsonInclude(JsonInclude.Include.ALWAYS) Double testAccuracy, long examples,
                int rounds, double seconds, double examplesPerSecond) {
    }

    private final Workspace workspace;
    private final String who;
    private final int epochs;
    private final String path;
    private final List<String> lines = new ArrayList<>();

    MetricsLog(Workspace workspace, String who, int epochs) {
        this.workspace = workspace;
        this.who = who;
        this.epochs = epochs;
        this.path = workspace.path("report", FILE);
        if (workspace.exists(path)) {
            for (String line : workspace.readString(path).split("\n")) {
                if (!line.isBlank() && !who.equals(Json.read(line).get("model"))) {
                    lines.add(line);
                }
            }
        }
    }

    void add(EpochStats e) {
        lines.add(Json.line(new Line(Instant.now().toString(), who, e.epoch(), epochs, e.meanLoss(),
                Double.isNaN(e.testAccuracy()) ? null : e.testAccuracy(), e.examples(), e.rounds(), e.seconds(),
                e.examples() / e.seconds())));
        workspace.writeString(path, String.join("\n", lines) + "\n");
    }
}
