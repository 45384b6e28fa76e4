package dev.distill.job.stages;

import dev.distill.job.JobContext;
import dev.distill.job.Workspace;

import java.io.PrintStream;
import java.util.List;

/**
 * One step of the pipeline: what its outputs are made from ({@link #key}), whether they are complete, the
 * work itself, and the facts it records. A stage reads its inputs from the output folder and writes its
 * outputs there, so it can be run alone. {@link StageRunner} owns everything around the work: skipping a
 * stage that is up to date, saying what changed, {@code --force}, the Spark job group, and writing
 * {@code <folder>/provenance.json} (with the key) once the work succeeded. Adding a stage means one class
 * implementing this interface and its place in {@link Stages#ALL}.
 */
public interface Stage {
    /** The command that runs this stage alone, e.g. {@code label}. */
    String name();

    /** The folder under the output folder that holds its provenance record, e.g. {@code soft-labels}. */
    String folder();

    /** What it makes, for messages: e.g. {@code soft-labels/} or {@code student/ and baseline/}. */
    String makes();

    /** Why this job has no such stage (e.g. the teacher is loaded, not trained), or null when it has. */
    default String notInThisJob(JobContext ctx) {
        return null;
    }

    /** The parts its outputs are made from: setting sections, input files, earlier stages' records. */
    StageKey key(JobContext ctx);

    /**
     * True when the stage replaces its whole folder in one step (see {@link dev.distill.job.Workspace#publish}):
     * the runner then keeps the old record while the stage runs, since a failure leaves the old outputs whole.
     * Otherwise the old record is removed first, so that an interrupted stage never looks complete.
     */
    default boolean publishesAtomically() {
        return false;
    }

    /** True when every output exists (the provenance record aside, which the runner checks). */
    boolean complete(JobContext ctx);

    /**
     * Does the work and returns the facts for its provenance record (a record or a map, rendered as JSON
     * fields). Outputs are written atomically; the runner writes the record after this returns.
     */
    Object run(JobContext ctx);

    /** Outputs to list after a command, as (label, path); only those that exist are printed. */
    default List<Output> outputs(Workspace w) {
        return List.of();
    }

    /**
     * The files this stage writes whose content later stages trust: the runner records their SHA-256 in the
     * provenance record and redoes the stage when one no longer matches (damaged, replaced). By default the
     * listed {@link #outputs}.
     */
    default List<String> files(Workspace w) {
        return outputs(w).stream().map(Output::path).toList();
    }

    /**
     * Files that let an interrupted run of this stage resume where it stopped (training checkpoints);
     * {@code --force} deletes them, so that a forced stage starts over rather than resuming. None by default.
     */
    default List<String> resumeState(Workspace w) {
        return List.of();
    }

    /** Printed after a command that ran or skipped this stage, e.g. the report tables; nothing by default. */
    default void summarise(JobContext ctx, PrintStream out) {
    }

    /** An output to list: a label (empty for a continuation line) and a path. */
    record Output(String label, String path) {
    }
}
