package io.torchlstm4j.platform;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel's entry points into the native library ({@code app/src/main/c}: AVX-512 or AVX2 intrinsics, built with
 * the library for Linux x86-64; loaded and checked by {@link NativeLibrary}): the float32 gate math of one LSTM
 * step, forward or backward, in place on the kernel's native buffers; the copy of the kernel's input from the caller's
 * tensor through its strides ({@link #copy}); and a step's recurrent product for the shapes where OpenBLAS's packing
 * of both operands on every call costs more than the product ({@link #recurrentFits}), accumulating each element in
 * the order OpenBLAS's kernels do, so bit-identical to them (NativeGatesTest runs the MNIST model both ways). None of
 * the native functions allocates; every buffer's bounds are checked here, in Java, before each call.
 *
 * <p>Why the gate math: in Java the gate math of a step needs the GEMM's output copied into Java arrays and the new
 * states copied back, and several passes over them; one fused native loop does it in one pass without copies
 * (figures in docs/design.md). The C code computes the same IEEE float expressions in the same order as
 * {@link FloatPrecision}'s loops (separate multiplies and adds, a true division, a NaN-keeping clamp), so both paths
 * give bit-identical results; {@link NativeLibrary}'s self-check on load holds the library to that, and
 * {@code NativeGatesTest} does so over whole networks.
 *
 * <p>Callable only where {@link NativeLibrary#nativeGateMath()}; elsewhere the Java loops run. float64 and LSTMs with
 * projections ({@code proj_size > 0}) always use the Java loops. Safe for concurrent use on buffers that no other
 * thread writes: the only state is {@link #checkRecurrent}'s answer per shape, in a concurrent map.
 */
public final class NativeGates {

    private static final Logger LOG = LoggerFactory.getLogger(NativeGates.class);
    /** Per shape (m, n, k), {@link #key}: whether {@link #recurrent} gave OpenBLAS's bits (AVX2 library). */
    private static final Map<Long, Boolean> AGREES = new ConcurrentHashMap<>();

    private NativeGates() {
    }

    /**
     * Forward step (see {@code lstm_gates_avx512.c}): the 4H gate rows of n pre-activations at {@code gates[gateAt ..]}
     * ({@code ldGates} apart) become the activations i, f, g, o (with {@code bias}, 4H values, added);
     * c = f * cPrev + i * g and h = o * tanh(c) go to the state buffers, H rows {@code ldState} apart; y (H rows
     * {@code ldY} apart) receives h, times the n-value 1/0 {@code mask} when one is given (then c and h keep their
     * previous values where it is 0).
     */
    public static void forwardStep(OffHeap gates, long gateAt, long ldGates, OffHeap bias, OffHeap c, long cPrevAt,
                                   long cAt, OffHeap h, long hPrevAt, long hAt, long ldState, OffHeap y, long yAt,
                                   long ldY, OffHeap mask, long maskAt, int hidden, int n) {
        forwardStep(gates.address(gateAt, 4L * hidden, ldGates, n), ldGates,
                bias.address(0, 1, 4L * hidden, 4L * hidden),
                c.address(cPrevAt, hidden, ldState, n), c.address(cAt, hidden, ldState, n),
                h.address(hPrevAt, hidden, ldState, n), h.address(hAt, hidden, ldState, n), ldState,
                y.address(yAt, hidden, ldY, n), ldY, mask == null ? 0 : mask.address(maskAt, 1, n, n), hidden, n);
    }

    /**
     * Backward step (see {@code lstm_gates_avx512.c}): the activations at {@code gates[gateAt ..]} become the gate
     * gradients, from dh = dy (+ {@code carry}, H rows of n, when not null) (* mask) and the carried cell gradient
     * {@code dc} (H rows of n), which becomes the earlier step's. {@code next} (elements; 0 for none) is where the
     * next step's columns are relative to this one's: they are prefetched, as the forward wrote them long ago.
     */
    public static void backwardStep(OffHeap gates, long gateAt, long ldGates, OffHeap dy, long dyAt, long ldY,
                                    OffHeap carry, OffHeap c, long cAt, long cPrevAt, long ldState, OffHeap dc,
                                    OffHeap mask, long maskAt, int hidden, int n, long next) {
        if (next != 0) {
            gates.address(gateAt + next, 4L * hidden, ldGates, n);
            dy.address(dyAt + next, hidden, ldY, n);
            c.address(cPrevAt + next, hidden, ldState, n);
        }
        backwardStep(gates.address(gateAt, 4L * hidden, ldGates, n), ldGates, dy.address(dyAt, hidden, ldY, n), ldY,
                carry == null ? 0 : carry.address(0, hidden, n, n), c.address(cAt, hidden, ldState, n),
                c.address(cPrevAt, hidden, ldState, n), ldState, dc.address(0, hidden, n, n),
                mask == null ? 0 : mask.address(maskAt, 1, n, n), hidden, n, next);
    }

    /**
     * Copies {@code source}, a float32 array or view with non-negative strides read as {@code [A, B, C]} through
     * {@code strides} (in elements, one per axis of that order, whatever the source's own axis order), into the first
     * elements of {@code dst} in c order (see {@code lstm_common.c}): the kernel's input from the caller's tensor in one
     * copy, faster than ND4J's assign (figures in docs/design.md).
     *
     * @return false (nothing copied) when the source is not such an array, or its memory is not laid out as expected
     */
    public static boolean copy(INDArray source, int a, int b, int c, long[] strides, OffHeap dst) {
        if (source.dataType() != DataType.FLOAT || source.isEmpty()) {
            return false;
        }
        // ND4J gives a view its own buffer that starts at the view's first element (the view's offset is that
        // buffer's offset into the original); anything else is left to ND4J's copy
        Pointer first = source.data().addressPointer();
        if (first.position() != 0 || source.offset() != source.data().offset()) {
            return false;
        }
        long[] shape = {a, b, c};
        long last = 0;
        for (int i = 0; i < 3; i++) {
            if (strides[i] < 0) {
                return false;
            }
            last += (shape[i] - 1) * strides[i];
        }
        if (last >= source.data().length()) {
            return false;
        }
        long count = (long) a * b * c;
        copy(first.address(), strides[0], strides[1], strides[2], dst.address(0, 1, count, count), a, b, c);
        return true;
    }

    /**
     * True when {@link #recurrent} computes a step's recurrent product (forward: 4H x N x H; backward: H x N x 4H)
     * faster than OpenBLAS and with its bits.
     *
     * <p>With the AVX-512 library and OpenBLAS's SkylakeX kernels in use: n is 64 or 128 (whole blocks of 64 lanes),
     * k at most 256, W (m x k) at most 256 KiB, and over 10^6 multiply-adds, where OpenBLAS (0.3.19) leaves its
     * small-matrix kernels, whose summation order differs (with k = 512 it splits the sum). Never where weaker
     * kernels were kept ({@code -Dtorchlstm4j.openblas.kernels=keep}).
     *
     * <p>With the AVX2 library: n a multiple of 8 from 16, k at most 256, W at most 256 KiB and over 10^5
     * multiply-adds, and only once {@link #checkRecurrent} has found this shape's product giving OpenBLAS's bits on
     * random operands (false for a shape not checked yet): the C code follows how OpenBLAS's AVX2 (Zen) kernels sum
     * each element, as measured, and the check, not that reading, decides.
     *
     * <p>Outside these shapes OpenBLAS is as fast or faster, or its bits are not reproduced (figures in
     * docs/performance.md).
     */
    public static boolean recurrentFits(int m, int n, int k) {
        if (OpenBlasKernels.avx512KernelsInUse()) {
            return n % 64 == 0 && n <= 128 && k <= 256 && (long) m * k <= 65536 && (double) m * n * k > 1e6;
        }
        return avx2Shape(m, n, k) && Boolean.TRUE.equals(AGREES.get(key(m, n, k)));
    }

    /**
     * True when {@link #recurrent}, without adding to C, gives an input projection W_ih x (4H x count x H_in), or an
     * input gradient W_ih^T dgates from a transposed copy of W_ih (H_in x count x 4H), on one BLAS thread faster than
     * OpenBLAS and with its bits: with the AVX2 library, the shapes of {@link #recurrentFits} (checked the same way;
     * OpenBLAS's transposed GEMM packs the same elements into the same panels as the plain one on the copy, so it
     * gives the same bits). The AVX-512 library's product is checked for the step shapes only, so these stay with
     * OpenBLAS there.
     */
    public static boolean inputProductFits(int m, int n, int k) {
        return NativeLibrary.avx2Variant() && recurrentFits(m, n, k);
    }

    /**
     * With the AVX2 library, checks once per shape and process whether {@link #recurrent} of shape (m, n, k) gives the
     * bits of OpenBLAS's {@code cblas_sgemm} on one BLAS thread (as the step loops and small calls that use it run),
     * on two sets of random operands, with C added to and not; {@link #recurrentFits} then reads the answer. Does
     * nothing for shapes outside {@link #recurrentFits}'s sizes, already checked shapes, or the AVX-512 library.
     *
     * <p>Call it on the calling thread before a call's BLAS sections and streams start (it runs OpenBLAS in a
     * one-thread section of its own, which a stream inside another section must not wait for).
     */
    public static void checkRecurrent(int m, int n, int k) {
        if (!avx2Shape(m, n, k) || AGREES.containsKey(key(m, n, k))) {
            return;
        }
        boolean agrees = sameBitsAsCblas(m, n, k, key(m, n, k),
                (w, h, c, accumulate) -> recurrent(w, h, 0, n, c, 0, n, m, n, k, accumulate));
        AGREES.put(key(m, n, k), agrees);
        if (!agrees) {
            LOG.info("fast LSTM: the native recurrent product of {} x {} x {} does not give OpenBLAS's bits on this "
                    + "machine; OpenBLAS computes it", m, n, k);
        }
    }

    /** Whether {@link #checkRecurrent} has decided shape (m, n, k) in this process (for diagnostics and tests). */
    public static boolean checked(int m, int n, int k) {
        return AGREES.containsKey(key(m, n, k));
    }

    /** The sizes the AVX2 library's product takes (before its check). */
    private static boolean avx2Shape(int m, int n, int k) {
        return NativeLibrary.avx2Variant() && n % 8 == 0 && n >= 16 && k <= 256 && (long) m * k <= 65536
                && (double) m * n * k > 1e5;
    }

    /** One long per shape (m, n, k), for the per-shape answers of the checks. */
    static long key(int m, int n, int k) {
        return ((long) m << 42) | ((long) n << 21) | k;
    }

    /** A candidate for C = W H (+ C when accumulate): W m x k, H k x n, C m x n, each contiguous row-major. */
    interface Product {
        void compute(OffHeap w, OffHeap h, OffHeap c, boolean accumulate);
    }

    /**
     * Whether {@code product} gives the bits of {@code cblas_sgemm} on one OpenBLAS thread for shape (m, n, k), on two
     * sets of pseudo-random operands drawn from {@code seed}: C added to with the first, not with the second. The
     * check behind {@link #checkRecurrent} and {@link PackedGemm#check}.
     */
    static boolean sameBitsAsCblas(int m, int n, int k, long seed, Product product) {
        boolean agrees = true;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            FloatPrecision blas = new FloatPrecision();
            for (boolean accumulate : new boolean[] {true, false}) {
                OffHeap w = randomBuffer((long) m * k, seed++);
                OffHeap h = randomBuffer((long) k * n, seed++);
                OffHeap expected = randomBuffer((long) m * n, seed);
                OffHeap actual = randomBuffer((long) m * n, seed++);
                try (OpenBlasKernels.Section oneThread = OpenBlasKernels.singleThreaded()) {
                    blas.gemm(false, false, m, n, k, w, 0, k, h, 0, n, accumulate, expected, 0, n);
                }
                product.compute(w, h, actual, accumulate);
                float[] e = new float[m * n];
                float[] a = new float[m * n];
                expected.floats().get(0, e);
                actual.floats().get(0, a);
                // bit for bit: Arrays.equals compares floatToIntBits, which tells -0.0 from 0.0 (no NaN here)
                agrees &= Arrays.equals(e, a);
            }
        }
        return agrees;
    }

    /** {@code length} pseudo-random floats from {@code seed}, spread over nine binary orders of magnitude. */
    static OffHeap randomBuffer(long length, long seed) {
        OffHeap buffer = new OffHeap(Nd4j.createUninitializedDetached(DataType.FLOAT, length));
        fillRandom(buffer.address(0, 1, length, length), length, seed);
        return buffer;
    }

    /**
     * C (m x n at {@code c[cAt ..]}, rows {@code ldc} apart) = W (m x k, row-major, all of {@code w}'s first
     * elements) H (k x n at {@code h[hAt ..]}, rows {@code ldh} apart), plus C when {@code accumulate}: each element
     * summed in the order OpenBLAS's kernels sum it (SkylakeX with the AVX-512 library, Zen with the AVX2 library; see
     * the C code), added to C at the end, without their packing of W and H on every call. For the shapes of
     * {@link #recurrentFits}.
     */
    public static void recurrent(OffHeap w, OffHeap h, long hAt, long ldh, OffHeap c, long cAt, long ldc, int m, int n,
                          int k, boolean accumulate) {
        if (NativeLibrary.avx2Variant() && (n % 8 != 0 || n < 16)) {
            // the AVX2 code reads and writes whole vectors of 8 lanes
            throw new IllegalStateException("internal: the AVX2 recurrent product needs n a multiple of 8 from 16, got "
                    + n);
        }
        recurrent(w.address(0, m, k, k), k, h.address(hAt, k, ldh, n), ldh, c.address(cAt, m, ldc, n), ldc, m, n, k,
                accumulate);
    }

    private static native void fillRandom(long address, long length, long seed);

    private static native void recurrent(long w, long ldw, long h, long ldh, long c, long ldc, int m, int n, int k,
                                         boolean accumulate);

    private static native void copy(long source, long strideA, long strideB, long strideC, long dst, int a, int b,
                                    int c);

    private static native void forwardStep(long gates, long ldGates, long bias, long cPrev, long c, long hPrev,
                                           long h, long ldState, long y, long ldY, long mask, int hidden, int n);

    private static native void backwardStep(long gates, long ldGates, long dy, long ldY, long carry, long c,
                                            long cPrev, long ldState, long dc, long mask, int hidden, int n,
                                            long next);


}
