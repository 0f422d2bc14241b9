package io.torchlstm4j.platform;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link PackedGemm} (OpenBLAS's own kernel with W packed once) against {@code cblas_sgemm} on one OpenBLAS thread:
 * where OpenBLAS runs its Zen kernels, every shape listed is taken (the large BiLSTM's forward and backward steps, the
 * MNIST model's, odd sizes), and every shape taken gives cblas_sgemm's bits on operands other than the check's, with
 * W packed once and used for several products.
 */
class PackedGemmTest {

    private static final int[][] SHAPES = {
            {2048, 64, 512}, {512, 64, 2048}, {256, 64, 64}, {64, 64, 256}, {256, 24, 64}, {100, 19, 60},
            {36, 40, 9}, {1000, 7, 330}};

    @Test
    void onOpenBlasZenKernelsEveryShapeIsTakenAndGivesCblasBits() {
        NativePlatform.initialize();
        assumeTrue(NativeLibrary.loaded(), "needs the native library: " + NativeLibrary.status());
        boolean zen = OpenBlasKernels.status().contains("ZEN");
        for (int[] shape : SHAPES) {
            int m = shape[0];
            int n = shape[1];
            int k = shape[2];
            PackedGemm.check(m, n, k);
            if (zen) {
                assertTrue(PackedGemm.fits(m, n, k), m + " x " + n + " x " + k + " on the Zen kernels");
            }
            if (PackedGemm.fits(m, n, k)) {
                assertSameBits(m, n, k, new Random(m * 31L + n * 7L + k));
            }
        }
    }

    @Test
    void anUncheckedShapeIsRefusedRatherThanComputedWithUnknownBits() {
        NativePlatform.initialize();
        assumeTrue(NativeLibrary.loaded(), "needs the native library: " + NativeLibrary.status());
        OffHeap w = NativeLibrary.offHeap(new float[3 * 5]);
        OffHeap h = NativeLibrary.offHeap(new float[5 * 2]);
        OffHeap c = NativeLibrary.offHeap(new float[3 * 2]);
        OffHeap scratch = NativeLibrary.offHeap(new float[(int) PackedGemm.scratchLength(2, 5)]);
        assertThrows(IllegalStateException.class,
                () -> PackedGemm.multiply(w, h, 0, 2, c, 0, 2, 3, 2, 5, scratch, true));
    }

    /** W packed once, then three products with other H and C, each against cblas_sgemm on one thread. */
    private static void assertSameBits(int m, int n, int k, Random random) {
        OffHeap w = NativeLibrary.offHeap(BlasOperands.values(random, m * k));
        OffHeap packed = NativeLibrary.offHeap(new float[(int) PackedGemm.packedLength(m, k)]);
        OffHeap scratch = NativeLibrary.offHeap(new float[(int) PackedGemm.scratchLength(n, k)]);
        PackedGemm.pack(w, m, k, packed);
        for (int product = 0; product < 3; product++) {
            boolean accumulate = product != 1;
            OffHeap h = NativeLibrary.offHeap(BlasOperands.values(random, k * n));
            float[] start = BlasOperands.values(random, m * n);
            OffHeap expected = BlasOperands.openBlasProduct(w, h, start, m, n, k, accumulate);
            OffHeap actual = NativeLibrary.offHeap(start);
            PackedGemm.multiply(packed, h, 0, n, actual, 0, n, m, n, k, scratch, accumulate);
            BlasOperands.assertSameBits(expected, actual, m, n, m + " x " + n + " x " + k + ", product " + product);
        }
    }
}
