package dev.distill.settings;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown when a job's settings have one or more problems; the message lists every one of them. */
public final class SettingsException extends RuntimeException {
    private final List<Problem> problems;

    public SettingsException(List<Problem> problems) {
        super(render(problems));
        this.problems = List.copyOf(problems);
    }

    public SettingsException(Problem problem) {
        this(List.of(problem));
    }

    public List<Problem> problems() {
        return problems;
    }

    private static String render(List<Problem> problems) {
        if (problems.size() == 1) {
            return problems.get(0).toString();
        }
        return problems.size() + " configuration problems:\n"
                + problems.stream().map(p -> "  " + p).collect(Collectors.joining("\n"));
    }
}
