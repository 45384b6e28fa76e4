package dev.distill.settings;

/**
 * One thing wrong with a job's settings: the key, where its value came from (file:line, or "system
 * properties", or "defaults"), the offending value as written, and what would be valid.
 */
public record Problem(String key, String origin, String value, String message) {

    /** Renders as {@code conf/x.conf:12: kd.student.training.epochs = 0: must be an integer >= 1}. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        if (origin != null && !origin.isEmpty()) {
            b.append(origin).append(": ");
        }
        b.append(key);
        if (value != null) {
            b.append(" = ").append(value);
        }
        return b.append(": ").append(message).toString();
    }
}
