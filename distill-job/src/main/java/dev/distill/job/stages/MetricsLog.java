package dev.distill.job.stages;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.distill.job.Json;
import dev.distill.job.Workspace;
import dev.distill.student.spark.EpochStats;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code report/metrics.jsonl}: one JSON object per line per trained epoch, {@code model} naming the
 * network. Training a network from epoch k replaces that network's lines from epoch k on (a fresh training
 * all of them; one resumed after epoch k - 1 keeps the epochs before) and keeps the other networks'; the
 * file is rewritten atomically after every epoch, so a reader never sees half a line.
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
    private boolean started;

    MetricsLog(Workspace workspace, String who, int epochs) {
        this.workspace = workspace;
        this.who = who;
        this.epochs = epochs;
        this.path = workspace.path("report", FILE);
        if (workspace.exists(path)) {
            for (String line : workspace.readString(path).split("\n")) {
                if (!line.isBlank()) {
                    lines.add(line);
                }
            }
        }
    }

    /** This network's epochs in the file, in order: those trained before a resume, then this training's. */
    List<dev.distill.job.report.Report.Epoch> epochs() {
        List<dev.distill.job.report.Report.Epoch> out = new ArrayList<>();
        for (String line : lines) {
            Line l = Json.read(line, Line.class);
            if (who.equals(l.model())) {
                out.add(new dev.distill.job.report.Report.Epoch(l.epoch(), l.loss(), l.testAccuracy(), l.examples(),
                        l.rounds(), l.seconds()));
            }
        }
        out.sort(java.util.Comparator.comparingInt(dev.distill.job.report.Report.Epoch::epoch));
        return out;
    }

    void add(EpochStats e) {
        if (!started) {
            started = true;
            lines.removeIf(line -> {
                Map<String, Object> m = Json.read(line);
                return who.equals(m.get("model")) && ((Number) m.get("epoch")).intValue() >= e.epoch();
            });
        }
        lines.add(Json.line(new Line(Instant.now().toString(), who, e.epoch(), epochs, e.meanLoss(),
                Double.isNaN(e.testAccuracy()) ? null : e.testAccuracy(), e.examples(), e.rounds(), e.seconds(),
                e.examples() / e.seconds())));
        workspace.writeString(path, String.join("\n", lines) + "\n");
    }
}
