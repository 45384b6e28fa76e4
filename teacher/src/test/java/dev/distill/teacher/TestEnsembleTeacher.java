package dev.distill.teacher;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TestEnsembleTeacher {

    /** A teacher that returns fixed logits, whatever the rows. */
    private record Fixed(float[] logits, int numClasses) implements Teacher {
        @Override
        public float[] logits(float[] features, int rows) {
            return logits.clone();
        }

        @Override
        public int featureLength() {
            return 2;
        }

        @Override
        public long parameters() {
            return 5;
        }
    }

    private static final float LN3 = (float) Math.log(3);
    private static final float LN4 = (float) Math.log(4);

    /**
     * By hand. Row 0: probabilities (1/4, 3/4) and (3/4, 1/4) average to (1/2, 1/2). Row 1: (1/2, 1/2) and
     * (1/5, 4/5) average to (0.35, 0.65). Logits shifted by a constant give the same probabilities.
     */
    @Test
    void averagesTheMembersProbabilities() {
        Teacher a = new Fixed(new float[] {0, LN3, 7, 7}, 2);
        Teacher b = new Fixed(new float[] {LN3 + 100, 100, 0, LN4}, 2);
        EnsembleTeacher e = new EnsembleTeacher(List.of(a, b), List.of("a", "b"));
        float[] t = e.logits(new float[4], 2);
        assertArrayEquals(new float[] {(float) Math.log(0.5), (float) Math.log(0.5), (float) Math.log(0.35),
                (float) Math.log(0.65)}, t, 1e-6f);
        assertEquals(10, e.parameters());
        assertEquals(2, e.numClasses());
    }

    /** Far-apart logits (a confident teacher) neither overflow nor lose the other member's mass. */
    @Test
    void staysFiniteForConfidentMembers() {
        Teacher a = new Fixed(new float[] {1000, 0, -1000}, 3);
        Teacher b = new Fixed(new float[] {0, 1000, -1000}, 3);
        float[] t = new EnsembleTeacher(List.of(a, b), List.of("a", "b")).logits(new float[2], 1);
        assertEquals(Math.log(0.5), t[0], 1e-6);
        assertEquals(Math.log(0.5), t[1], 1e-6);
        assertEquals(-2000, t[2], 1e-3);
    }

    @Test
    void refusesMembersWithOtherClasses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EnsembleTeacher(
                List.of(new Fixed(new float[2], 2), new Fixed(new float[3], 3)), List.of("a.zip", "b.onnx")));
        assertEquals("teacher b.onnx has 3 output classes but teacher a.zip has 2: an ensemble's teachers must share"
                + " their classes", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new EnsembleTeacher(List.of(new Fixed(new float[2], 2)), List.of("a.zip")));
    }
}
