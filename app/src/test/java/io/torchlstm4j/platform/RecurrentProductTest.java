package io.torchlstm4j.platform;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The AVX2 library's recurrent product ({@link NativeGates#recurrent}) against OpenBLAS's GEMM on its Zen kernels,
 * whose summation order the C code follows: on such a machine the step shapes of the MNIST-size models are taken, and
 * every element of every shape taken is OpenBLAS's, bit for bit, on operands other than those of the check that
 * admitted the shape. (Other shapes, and other machines, are left to {@link NativeGates#recurrentFits}'s own check,
 * so only the bits of the shapes it takes are asserted there.)
 */
class RecurrentProductTest {

    /**
     * (m, n, k): the MNIST model's forward and backward steps, a bidirectional one at batch 128, other rows and n,
     * and input projections (K = 28).
     */
    private static final int[][] SHAPES = {
            {256, 64, 64}, {64, 64, 256}, {256, 128, 64}, {512, 16, 128}, {256, 32, 64}, {100, 24, 60},
            {60, 40, 200}, {128, 48, 32}, {516, 64, 100}, {256, 64, 28}, {256, 128, 28}};

    @Test
    void onOpenBlasZenKernelsTheMnistStepsAreTakenAndEveryShapeGivesOpenBlasBits() {
        NativePlatform.initialize();
        assumeTrue(NativeLibrary.avx2Variant(), "needs the AVX2 library: " + NativeLibrary.status());
        for (int[] shape : SHAPES) {
            NativeGates.checkRecurrent(shape[0], shape[1], shape[2]);
        }
        NativeGates.checkRecurrent(256, 32, 64);
        if (OpenBlasKernels.status().contains("ZEN")) {
            assertTrue(NativeGates.recurrentFits(256, 64, 64), "the MNIST forward step");
            assertTrue(NativeGates.recurrentFits(64, 64, 256), "the MNIST backward step");
            assertTrue(NativeGates.recurrentFits(256, 128, 64), "batch 128");
            assertTrue(NativeGates.recurrentFits(256, 32, 64), "batch 32");
            assertTrue(NativeGates.inputProductFits(256, 64, 28), "the MNIST model's first layer, one step");
            assertTrue(NativeGates.inputProductFits(256, 128, 64), "its second layer, a block of two steps");
        }
        int taken = 0;
        for (int[] shape : SHAPES) {
            int m = shape[0];
            int n = shape[1];
            int k = shape[2];
            if (!NativeGates.recurrentFits(m, n, k)) {
                continue;
            }
            taken++;
            for (long seed = 1; seed <= 3; seed++) {
                for (boolean accumulate : new boolean[] {true, false}) {
                    assertSameBits(m, n, k, accumulate, new Random(seed * 1000 + m + n + k));
                }
            }
        }
        if (OpenBlasKernels.status().contains("ZEN")) {
            assertTrue(taken >= 5, "the MNIST-size shapes fit on the Zen kernels; taken: " + taken);
        }
    }

    /**
     * The input gradient of a wavefront's upper layer, W_ih^T dgates: the kernel computes it with the native product on
     * a transposed copy of W_ih where OpenBLAS ran its transposed GEMM on W_ih itself, so those two must agree.
     */
    @Test
    void theProductOnATransposedCopyGivesTheBitsOfOpenBlasTransposedGemm() {
        NativePlatform.initialize();
        assumeTrue(NativeLibrary.avx2Variant(), "needs the AVX2 library: " + NativeLibrary.status());
        int[][] shapes = {{64, 128, 256}, {64, 64, 256}, {32, 48, 128}, {128, 128, 512}};
        int taken = 0;
        for (int[] shape : shapes) {
            int m = shape[0];
            int n = shape[1];
            int k = shape[2];
            NativeGates.checkRecurrent(m, n, k);
            if (!NativeGates.inputProductFits(m, n, k)) {
                continue;
            }
            taken++;
            Random random = new Random(m * 31L + n * 7L + k);
            float[] w = BlasOperands.values(random, k * m); // W_ih: k x m (4H x H_in)
            float[] wT = new float[m * k];
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < m; j++) {
                    wT[j * k + i] = w[i * m + j];
                }
            }
            OffHeap h = NativeLibrary.offHeap(BlasOperands.values(random, k * n));
            float[] start = BlasOperands.values(random, m * n);
            OffHeap expected = NativeLibrary.offHeap(start);
            try (OpenBlasKernels.Section oneThread = OpenBlasKernels.singleThreaded()) {
                new FloatPrecision().gemm(true, false, m, n, k, NativeLibrary.offHeap(w), 0, m, h, 0, n, false,
                        expected, 0, n);
            }
            OffHeap actual = NativeLibrary.offHeap(start);
            NativeGates.recurrent(NativeLibrary.offHeap(wT), h, 0, n, actual, 0, n, m, n, k, false);
            BlasOperands.assertSameBits(expected, actual, m, n, m + " x " + n + " x " + k + " from W^T");
        }
        if (OpenBlasKernels.status().contains("ZEN")) {
            assertTrue(taken >= 2, "the MNIST model's input-gradient blocks fit on the Zen kernels; taken: " + taken);
        }
    }

    @Test
    void theAvx2ProductRefusesBatchesItCannotComputeInsteadOfWritingOutsideThem() {
        NativePlatform.initialize();
        assumeTrue(NativeLibrary.avx2Variant(), "needs the AVX2 library: " + NativeLibrary.status());
        OffHeap w = NativeLibrary.offHeap(new float[4 * 3]);
        OffHeap h = NativeLibrary.offHeap(new float[3 * 19]);
        OffHeap c = NativeLibrary.offHeap(new float[4 * 19]);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> NativeGates.recurrent(w, h, 0, 19, c, 0, 19, 4, 19, 3, true));
        assertTrue(e.getMessage().contains("got 19"), e.getMessage());
    }

    /** C = W H (+ C) by OpenBLAS on one thread and by the native product, from the same C, compared bit for bit. */
    private static void assertSameBits(int m, int n, int k, boolean accumulate, Random random) {
        OffHeap w = NativeLibrary.offHeap(BlasOperands.values(random, m * k));
        OffHeap h = NativeLibrary.offHeap(BlasOperands.values(random, k * n));
        float[] start = BlasOperands.values(random, m * n);
        OffHeap expected = BlasOperands.openBlasProduct(w, h, start, m, n, k, accumulate);
        OffHeap actual = NativeLibrary.offHeap(start);
        NativeGates.recurrent(w, h, 0, n, actual, 0, n, m, n, k, accumulate);
        BlasOperands.assertSameBits(expected, actual, m, n,
                m + " x " + n + " x " + k + (accumulate ? " (C added)" : ""));
    }
}
