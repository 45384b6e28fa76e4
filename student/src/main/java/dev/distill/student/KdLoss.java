package dev.distill.student;

import dev.distill.student.loss.HintonLoss;

/**
 * The name {@link HintonLoss} had before losses were picked from {@link dev.distill.student.loss.DistillationLosses}.
 * Networks saved then name this class in their configuration JSON; it is kept so that their model zips
 * still load (a test loads one). New networks are saved with {@link HintonLoss}.
 */
@Deprecated
public final class KdLoss extends HintonLoss {
    private static final long serialVersionUID = 1L;

    /** For JSON deserialisation of a saved network configuration. */
    public KdLoss() {
        super();
    }
}
