package io.torchlstm4j.platform;

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

    /**
     * C = W H (+ C when {@code accumulate}) by OpenBLAS's GEMM on one thread, C starting as {@code start}, in fresh
     * native memory: the bits a native product must give.
     */
    static OffHeap openBlasProduct(OffHeap w, OffHeap h, float[] start, int m, int n, int k, boolean accumulate) {
        OffHeap c = NativeLibrary.offHeap(start);
        try (OpenBlasKernels.Section oneThread = OpenBlasKernels.singleThreaded()) {
            new FloatPrecision().gemm(false, false, m, n, k, w, 0, k, h, 0, n, accumulate, c, 0, n);
        }
        return c;
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
