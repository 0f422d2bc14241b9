package io.torchlstm4j.core;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SequenceLayoutTest {

    private static final int F = 3;
    private static final int L = 4;
    private static final int N = 2;

    /** A feature-major [F, L, N] tensor whose element (f, t, n) is 100 f + 10 t + n. */
    private static INDArray featureMajor(int batch) {
        INDArray a = Nd4j.create(DataType.DOUBLE, F, L, batch);
        for (int f = 0; f < F; f++) {
            for (int t = 0; t < L; t++) {
                for (int n = 0; n < batch; n++) {
                    a.putScalar(new long[] {f, t, n}, 100 * f + 10 * t + n);
                }
            }
        }
        return a;
    }

    @Test
    void viewsPutEachElementOnItsAxesAndStridesReadItBack() {
        for (SequenceLayout layout : List.of(SequenceLayout.SEQUENCE_FIRST, SequenceLayout.BATCH_FIRST,
                SequenceLayout.NCW, SequenceLayout.UNBATCHED)) {
            int batch = layout.unbatched() ? 1 : N;
            INDArray fm = featureMajor(batch);
            INDArray caller = layout.fromFeatureMajor(fm);
            assertArrayEquals(layout.shape(L, batch, F), caller.shape(), layout.toString());
            assertEquals(L, layout.steps(caller));
            assertEquals(batch, layout.batch(caller));
            INDArray dense = caller.dup('c');
            long[] strides = layout.featureMajorStrides(dense);
            for (int f = 0; f < F; f++) {
                for (int t = 0; t < L; t++) {
                    for (int n = 0; n < batch; n++) {
                        double expected = 100 * f + 10 * t + n;
                        assertEquals(expected, dense.data().getDouble(f * strides[0] + t * strides[1] + n * strides[2]),
                                layout + " element (" + f + ", " + t + ", " + n + ")");
                        assertEquals(expected, layout.toSequenceFirst(dense).getDouble(t, n, f), layout.toString());
                    }
                }
            }
            assertEquals(dense, layout.fromSequenceFirst(layout.toSequenceFirst(dense)), layout.toString());
        }
    }

    @Test
    void ofFollowsBatchFirstAndRank() {
        assertEquals(SequenceLayout.SEQUENCE_FIRST, SequenceLayout.of(false, 3));
        assertEquals(SequenceLayout.BATCH_FIRST, SequenceLayout.of(true, 3));
        assertEquals(SequenceLayout.UNBATCHED, SequenceLayout.of(true, 2));
    }

    @Test
    void aLayoutNamesEachAxisOnce() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SequenceLayout(0, 0, 2));
        assertTrue(e.getMessage().contains("time 0, batch 0, feature 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SequenceLayout(0, -1, 2));
        assertThrows(IllegalArgumentException.class, () -> new SequenceLayout(0, 1, 3));
    }
}
