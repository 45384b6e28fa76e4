package dev.distill.job.stages;

import java.util.List;

/** The pipeline's stages in the order {@code run} runs them, and each by its command. */
public final class Stages {
    /** Every stage, in order. Export comes before evaluate, which measures the exported files. */
    public static final List<Stage> ALL = List.of(new TrainTeacherStage(), new LabelStage(), new TrainStudentStage(),
            new ExportStage(), new EvaluateStage());

    private Stages() {
    }

    /** The stage run by {@code command}, or null when no stage has that name. */
    public static Stage named(String command) {
        return ALL.stream().filter(s -> s.name().equals(command)).findFirst().orElse(null);
    }

    /** The commands of the stages, in order. */
    public static List<String> names() {
        return ALL.stream().map(Stage::name).toList();
    }
}
