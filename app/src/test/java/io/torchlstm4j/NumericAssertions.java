package io.torchlstm4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/** Tensor comparisons by max |difference| whose failure names the case, the tensor, the worst index and both values. */
final class NumericAssertions {

    private NumericAssertions() {
    }

    /** Forward tolerance: 1e-5 for float32, 1e-10 for float64. */
    static double forwardTolerance(DataType dataType) {
        return dataType == DataType.DOUBLE ? 1e-10 : 1e-5;
    }

    /** Gradient tolerance: 1e-4 for float32, 1e-9 for float64. */
    static double gradientTolerance(DataType dataType) {
        return dataType == DataType.DOUBLE ? 1e-9 : 1e-4;
    }

    /**
     * Asserts same shape, same dtype and max |expected - actual| &lt;= tolerance (NaN counts as infinitely far).
     *
     * @param context what ran, e.g. the fixture and engine
     * @param tensor  the tensor's name, e.g. {@code h_n}
     */
    static void assertClose(String context, String tensor, INDArray expected, INDArray actual, double tolerance) {
        assertNotNull(actual, () -> context + ": " + tensor + " is null");
        assertArrayEquals(expected.shape(), actual.shape(), () -> context + ": " + tensor + " has shape "
                + Arrays.toString(actual.shape()) + " but " + Arrays.toString(expected.shape()) + " was expected");
        assertEquals(expected.dataType(), actual.dataType(), () -> context + ": " + tensor + " has the wrong dtype");
        double[] e = flat(expected);
        double[] a = flat(actual);
        int worst = 0;
        double worstDiff = -1;
        for (int i = 0; i < e.length; i++) {
            double diff = Math.abs(e[i] - a[i]);
            if (Double.isNaN(diff)) {
                diff = Double.POSITIVE_INFINITY;
            }
            if (diff > worstDiff) {
                worstDiff = diff;
                worst = i;
            }
        }
        if (!(worstDiff <= tolerance)) {
            fail(context + ": " + tensor + " differs by max |difference| " + worstDiff + " > " + tolerance
                    + " at index " + Arrays.toString(unravel(worst, expected.shape())) + ": expected " + e[worst]
                    + ", got " + a[worst]);
        }
    }

    /** The values in C order as doubles (exact for float32 and float64). */
    static double[] flat(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').reshape(a.length()).toDoubleVector();
    }

    private static long[] unravel(long flatIndex, long[] shape) {
        long[] index = new long[shape.length];
        long rest = flatIndex;
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = rest % shape[d];
            rest /= shape[d];
        }
        return index;
    }
}
