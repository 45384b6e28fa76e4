package dev.distill.runtime;

import java.io.IOException;

/**
 * The one exception for a model file that cannot be used: wrong magic or version, failed checksum,
 * truncation, or a size that is impossible or beyond {@link ModelFile}'s limits. The message says which.
 */
public final class ModelFileException extends IOException {
    private static final long serialVersionUID = 1L;

    public ModelFileException(String message) {
        super(message);
    }

    public ModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
