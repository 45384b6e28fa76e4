package org.nd4j.nativeblas;

/**
 * Answers DL4J 1.0.0-M2.1's check for oneDNN ({@code BaseMKLDNNHelper.mklDnnEnabled()}), which looks up
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment.getInstance().isUseMKLDNN()} by reflection; ND4J of the same
 * version moved that class to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and renamed the method
 * {@code isUseONEDNN}, so without this class DL4J's oneDNN layer helpers are never used. It forwards to the
 * real environment and holds nothing else. See {@link dev.distill.student.NativeBackend}.
 */
public final class Nd4jCpu {
    private Nd4jCpu() {
    }

    /** The part of libnd4j's environment that DL4J asks about. */
    public static final class Environment {
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        /**
         * libnd4j's own answer: true in every build unless switched off (the plain build then runs its
         * generic ops behind DL4J's helpers).
         */
        public boolean isUseMKLDNN() {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
        }
    }
}
