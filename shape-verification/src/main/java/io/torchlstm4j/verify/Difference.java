package io.torchlstm4j.verify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * The largest absolute difference between two tensors, and where it is.
 *
 * @param maxAbs     max |actual - expected|, computed in float64; NaN when either side holds a NaN there,
 *                   infinite when the shapes differ
 * @param worstIndex the index of the largest difference (the first NaN if any), empty when the shapes differ
 */
public record Difference(double maxAbs, List<Long> worstIndex) {

    /** Copies the index. */
    public Difference {
        worstIndex = List.copyOf(worstIndex);
    }

    /** Compares two tensors element by element; shapes are compared first. */
    public static Difference between(INDArray actual, INDArray expected) {
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            return new Difference(Double.POSITIVE_INFINITY, List.of());
        }
        if (actual.length() == 0) {
            return new Difference(0, List.of());
        }
        double[] a = flat(actual);
        double[] e = flat(expected);
        double max = 0;
        int worst = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - e[i]);
            if (Double.isNaN(d)) {
                max = Double.NaN;
                worst = i;
                break;
            }
            if (d > max) {
                max = d;
                worst = i;
            }
        }
        return new Difference(max, unravel(worst, actual.shape()));
    }

    /** True when the shapes matched and the difference is within {@code atol} (false for NaN). */
    public boolean within(double atol) {
        return maxAbs <= atol;
    }

    private static double[] flat(INDArray x) {
        return Nd4j.toFlattened('c', x.castTo(DataType.DOUBLE)).toDoubleVector();
    }

    private static List<Long> unravel(long flatIndex, long[] shape) {
        Long[] index = new Long[shape.length];
        long rest = flatIndex;
        for (int d = shape.length - 1; d >= 0; d--) {
            index[d] = rest % shape[d];
            rest /= shape[d];
        }
        return List.of(index);
    }
}
