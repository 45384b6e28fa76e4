package dev.distill.job.stages;

import dev.distill.job.JobContext;
import dev.distill.job.Provenance;
import dev.distill.job.Workspace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.List;

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

    /** Runs one stage unless it is up to date; true when it ran. */
    private boolean runOne(Stage stage) {
        Workspace w = ctx.workspace();
        String record = w.path(stage.folder(), Provenance.FILE);
        StageKey key = stage.key(ctx);
        StageKey recorded = StageKey.recorded(ctx, record);
        boolean complete = recorded != null && stage.complete(ctx);
        if (skipUpToDate) {
            if (!force && complete && key.equals(recorded)) {
                LOG.info("{}: up to date ({} made from the same inputs and settings); skipped, --force redoes it",
                        stage.name(), stage.makes());
                return false;
            }
            if (force) {
                LOG.info("{}: redoing it (--force)", stage.name());
            } else if (complete) {
                LOG.info("{}: {} changed since {} was made; redoing it", stage.name(),
                        String.join(", ", key.changedSince(recorded)), stage.makes());
            } else if (stage.complete(ctx)) {
                LOG.info("{}: {} holds no record of what it was made from; redoing it", stage.name(), stage.makes());
            }
        }
        ctx.describe(stage.name(), stage.name());
        if (!stage.publishesAtomically()) {
            w.delete(record);   // written again when the stage succeeds
        }
        Object facts = stage.run(ctx);
        Provenance.write(ctx, stage.folder(), facts, key);
        return true;
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
