package dev.distill.job.stages;

import dev.distill.job.JobContext;
import dev.distill.job.Provenance;
import dev.distill.job.Workspace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs stages in order and owns what surrounds each one: skipping it when its outputs are complete and
 * were made from the same inputs and settings (for {@code run}; a single command always does its stage),
 * saying which parts of its key changed, {@code --force}, naming its Spark jobs (job group), removing its
 * old provenance record before the work (so an interrupted stage never looks complete) and writing the new
 * one, with the key, when the work succeeded. Afterwards it prints each stage's summary and the outputs.
 */
public final class StageRunner {
    private static final Logger LOG = LoggerFactory.getLogger("dev.distill.job");

    private final JobContext ctx;
    private final boolean skipUpToDate;
    private final boolean force;

    /**
     * @param skipUpToDate skip stages whose outputs are up to date ({@code run}); false runs every stage given
     * @param force        redo every stage even when it is up to date
     */
    public StageRunner(JobContext ctx, boolean skipUpToDate, boolean force) {
        this.ctx = ctx;
        this.skipUpToDate = skipUpToDate;
        this.force = force;
    }

    /** Runs {@code stages} in order, then prints their summaries and the outputs to {@code out}. */
    public void run(List<Stage> stages, PrintStream out) {
        int ran = 0;
        for (Stage stage : stages) {
            String absent = stage.notInThisJob(ctx);
            if (absent != null) {
                if (!skipUpToDate) {
                    throw new IllegalArgumentException(absent);
                }
                LOG.info("{}: skipped, {}", stage.name(), absent);
                continue;
            }
            ran += runOne(stage) ? 1 : 0;
        }
        if (skipUpToDate && ran == 0) {
            LOG.info("run: nothing to do, every stage is up to date with {} (--force redoes them)", ctx.jobFile());
        }
        for (Stage stage : stages) {
            if (stage.notInThisJob(ctx) == null) {
                stage.summarise(ctx, out);
            }
        }
        printOutputs(out);
    }

    /**
     * Runs the stages another command needs first ({@code compare}: the teacher and the soft labels), skipping
     * those up to date, without printing their summaries.
     */
    public void runQuietly(List<Stage> stages) {
        for (Stage stage : stages) {
            if (stage.notInThisJob(ctx) == null) {
                runOne(stage);
            }
        }
    }

    /** Runs one stage unless it is up to date; true when it ran. */
    private boolean runOne(Stage stage) {
        Workspace w = ctx.workspace();
        String record = w.path(stage.folder(), Provenance.FILE);
        StageKey key = stage.key(ctx);
        StageKey recorded = StageKey.recorded(ctx, record);
        boolean complete = recorded != null && stage.complete(ctx);
        String altered = complete && !force && skipUpToDate && key.equals(recorded) ? alteredOutput(stage, record)
                : null;
        if (skipUpToDate) {
            if (force) {
                LOG.info("{}: redoing it (--force)", stage.name());
            } else if (altered != null) {
                LOG.info("{}: {} is not the file {} wrote (damaged or replaced since); redoing it", stage.name(),
                        altered, stage.name());
            } else if (complete && key.equals(recorded)) {
                LOG.info("{}: up to date ({} made from the same inputs and settings); skipped, --force redoes it",
                        stage.name(), stage.makes());
                return false;
            } else if (complete) {
                LOG.info("{}: {} changed since {} was made; redoing it", stage.name(),
                        String.join(", ", key.changedSince(recorded)), stage.makes());
            } else if (stage.complete(ctx)) {
                LOG.info("{}: {} holds no record of what it was made from; redoing it", stage.name(), stage.makes());
            }
        }
        if (force) {
            stage.resumeState(w).forEach(w::delete);   // start over: a checkpoint would resume the old run
        }
        ctx.describe(stage.name(), stage.name());
        if (!stage.publishesAtomically()) {
            w.delete(record);   // written again when the stage succeeds
        }
        Object facts = stage.run(ctx);
        Map<String, String> outputs = new LinkedHashMap<>();
        for (String file : stage.files(w)) {
            if (w.exists(file) && w.isFile(file)) {
                outputs.put(relative(file), w.sha256(file));
            }
        }
        Provenance.write(ctx, stage.folder(), facts, key, outputs);
        return true;
    }

    /** The first output whose content differs from what its record says the stage wrote, or null. */
    @SuppressWarnings("unchecked")
    private String alteredOutput(Stage stage, String record) {
        Workspace w = ctx.workspace();
        Object recorded = dev.distill.job.Json.read(w.readString(record)).get(Provenance.OUTPUTS);
        if (!(recorded instanceof Map<?, ?> files)) {
            return null;   // a record of an earlier version, without output hashes
        }
        for (var e : ((Map<String, String>) files).entrySet()) {
            String path = w.path(e.getKey());
            if (!w.exists(path) || !w.sha256(path).equals(e.getValue())) {
                return e.getKey();
            }
        }
        return null;
    }

    /** {@code path} relative to the output folder (as recorded, so the folder can be moved). */
    private String relative(String path) {
        String root = ctx.workspace().path();
        return path.startsWith(root + "/") ? path.substring(root.length() + 1) : path;
    }

    private void printOutputs(PrintStream out) {
        Workspace w = ctx.workspace();
        out.println();
        out.println("outputs in " + w.root() + ":");
        for (Stage stage : Stages.ALL) {
            for (Stage.Output o : stage.outputs(w)) {
                if (w.exists(o.path())) {
                    out.printf("  %-12s %s%n", o.label(), o.path());
                }
            }
        }
    }
}
