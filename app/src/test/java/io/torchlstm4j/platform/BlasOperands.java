package io.torchlstm4j.platform;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/** Operands for the native products' tests against OpenBLAS, and their bit-for-bit comparison. */
final class BlasOperands {

    private BlasOperands() {
    }

    /** Gaussian values scaled over seven binary orders of magnitude. */
    static float[] values(Random random, int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) (random.nextGaussian() * Math.scalb(1.0, random.nextInt(7) - 3));
        }
        return values;
    }

    /** The values in fresh native memory. */
    static OffHeap buffer(float[] values) {
        OffHeap buffer = new OffHeap(Nd4j.createUninitializedDetached(DataType.FLOAT, Math.max(1, values.length)));
        buffer.floats().put(0, values);
        return buffer;
    }

    /** Fails naming the first element (row, column of m x n) whose bits differ, and both values. */
    static void assertSameBits(OffHeap expected, OffHeap actual, int m, int n, String what) {
        for (int i = 0; i < m * n; i++) {
            int e = Float.floatToRawIntBits(expected.floats().get(i));
            int a = Float.floatToRawIntBits(actual.floats().get(i));
            if (e != a) {
                throw new AssertionError(what + ": element (" + i / n + ", " + i % n + ") is "
                        + Float.intBitsToFloat(a) + ", OpenBLAS gives " + Float.intBitsToFloat(e));
            }
        }
    }
}
