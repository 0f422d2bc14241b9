package io.torchlstm4j.platform;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * OpenBLAS's own single-threaded float32 GEMM with the weight operand packed once for many products: a step loop
 * multiplies the same W by a new h at every step, and OpenBLAS packs W again at every call (for the large BiLSTM,
 * 4 MiB per step, 9% of a forward). This calls the running core's kernel and packing routines from OpenBLAS's
 * function table, blocked as its level-3 driver blocks them (C code in {@code lstm_common.c}), so each element is
 * summed exactly as {@code cblas_sgemm} on one OpenBLAS thread sums it; {@link #check} holds each shape to that
 * before {@link #fits} lets it be used.
 *
 * <p>Needs the native library (either variant) and OpenBLAS's table in ND4J's {@code libopenblas_nolapack} on Linux
 * x86-64 ({@link OpenBlasKernels} finds it). Safe for concurrent use: the table is read once; the answers per shape
 * are kept in a concurrent map; callers own their buffers.
 */
public final class PackedGemm {

    private static final Logger LOG = LoggerFactory.getLogger(PackedGemm.class);
    /** OpenBLAS 0.3.19's gotoblas_t: the float32 blocking ints after dtb_entries, offsetA, offsetB, align. */
    private static final int SGEMM_P = 4;
    /** Its sgemm kernel, beta, incopy, itcopy, oncopy, otcopy pointers, by 8-byte slot. */
    private static final int KERNEL_SLOT = 30;
    private static final int ITCOPY_SLOT = 33;
    private static final int ONCOPY_SLOT = 34;

    /** The running core's functions and blocking, or null where they could not be read. */
    private record Core(String name, long kernel, long itcopy, long oncopy, long p, long q, long r, long unrollM,
                        long unrollN) {
    }

    private static volatile Core core;
    private static volatile boolean read;
    /** Per shape (m, n, k): 0 = not OpenBLAS's bits, 1 = its bits with narrow last chunks, 2 = with wide ones. */
    private static final Map<Long, Integer> VARIANT = new ConcurrentHashMap<>();

    private PackedGemm() {
    }

    /** The running core's table, read once (null where this OpenBLAS is not one this class knows). */
    private static Core core() {
        if (read) {
            return core;
        }
        synchronized (PackedGemm.class) {
            if (!read) {
                core = readCore();
                read = true;
            }
            return core;
        }
    }

    private static Core readCore() {
        try {
            long table = OpenBlasKernels.runningTable();
            String name = table == 0 ? null : OpenBlasKernels.coreTables().get(table);
            if (name == null) {
                return null;
            }
            LongPointer slots = new LongPointer(OpenBlasKernels.at(table));
            long kernel = slots.get(KERNEL_SLOT);
            long itcopy = slots.get(ITCOPY_SLOT);
            long oncopy = slots.get(ONCOPY_SLOT);
            // the slots must hold this core's exported functions, or the table is laid out otherwise
            if (!same("sgemm_kernel_" + name, kernel) || !same("sgemm_itcopy_" + name, itcopy)
                    || !same("sgemm_oncopy_" + name, oncopy)) {
                return null;
            }
            IntPointer ints = new IntPointer(OpenBlasKernels.at(table));
            long p = ints.get(SGEMM_P);
            long q = ints.get(SGEMM_P + 1);
            long r = ints.get(SGEMM_P + 2);
            long unrollM = ints.get(SGEMM_P + 3);
            long unrollN = ints.get(SGEMM_P + 4);
            if (p < 8 || p > 8192 || q < 8 || q > 8192 || r < 64 || unrollM < 1 || unrollM > 64 || unrollN < 1
                    || unrollN > 64) {
                return null;
            }
            return new Core(name, kernel, itcopy, oncopy, p, q, r, unrollM, unrollN);
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("fast LSTM: OpenBLAS's table could not be read", e);
            return null;
        }
    }

    private static boolean same(String symbol, long address) {
        Pointer p = Loader.addressof(symbol);
        return p != null && p.address() == address && address != 0;
    }

    /** Floats of W packed ({@link #pack}): m * k. */
    public static long packedLength(int m, int k) {
        return (long) m * k;
    }

    /** Floats of the scratch {@link #multiply} needs for n columns and k. */
    public static long scratchLength(int n, int k) {
        Core c = core();
        long unrollM = c == null ? 64 : c.unrollM;
        long q = c == null ? k : c.q;
        long p = c == null ? n : c.p;
        return Math.min(k, 2 * q) * (Math.min(n, 2 * p) + unrollM);
    }

    /**
     * True when {@link #multiply} gives OpenBLAS's bits for shape (m, n, k) on one OpenBLAS thread: after
     * {@link #check} found so (false for a shape not checked yet, or without the native library or a known table).
     */
    public static boolean fits(int m, int n, int k) {
        Integer variant = VARIANT.get(NativeGates.key(m, n, k));
        return variant != null && variant > 0;
    }

    /**
     * Checks once per shape and process whether {@link #multiply} gives {@code cblas_sgemm}'s bits on one OpenBLAS
     * thread, on random operands with C added to and not, with either of the two column-chunk rules of OpenBLAS's
     * driver versions; {@link #fits} then reads the answer. Call it on the calling thread before a call's BLAS
     * section and streams (it runs OpenBLAS in a one-thread section of its own).
     */
    public static void check(int m, int n, int k) {
        long key = NativeGates.key(m, n, k);
        if (VARIANT.containsKey(key)) {
            return;
        }
        Core c = core();
        if (c == null || !NativeLibrary.loaded() || m > c.r || m < 1 || n < 1 || k < 1) {
            VARIANT.put(key, 0);
            return;
        }
        OffHeap sa = buffer(scratchLength(n, k));
        OffHeap packed = buffer(packedLength(m, k));
        int found = 0;
        for (int variant = 1; variant <= 2 && found == 0; variant++) {
            int chunks = variant;
            if (NativeGates.sameBitsAsCblas(m, n, k, key * 4 + variant, (w, h, out, accumulate) -> {
                pack(w, m, k, packed);
                multiply(packed, h, 0, n, out, 0, n, m, n, k, chunks, sa, accumulate);
            })) {
                found = variant;
            }
        }
        VARIANT.put(key, found);
        if (found == 0) {
            LOG.info("fast LSTM: OpenBLAS's kernel driven with W packed once does not give cblas_sgemm's bits for "
                    + "{} x {} x {} on this machine; cblas_sgemm computes it", m, n, k);
        }
    }

    /** W (m x k, row-major, contiguous) packed for {@link #multiply} into {@code packed}. */
    public static void pack(OffHeap w, int m, int k, OffHeap packed) {
        Core c = core();
        pack(c.oncopy, w.address(0, m, k, k), k, m, k, c.q, c.unrollM,
                packed.address(0, 1, packedLength(m, k), packedLength(m, k)));
    }

    /** C (m x n at c[cAt ..], rows ldc apart) = W H (+ C), W packed by {@link #pack}, H (k x n at h[hAt ..]). */
    public static void multiply(OffHeap packed, OffHeap h, long hAt, long ldh, OffHeap c, long cAt, long ldc, int m,
                                int n, int k, OffHeap sa, boolean accumulate) {
        Integer variant = VARIANT.get(NativeGates.key(m, n, k));
        if (variant == null || variant == 0) {
            throw new IllegalStateException("internal: the packed product of " + m + " x " + n + " x " + k
                    + " was not checked");
        }
        multiply(packed, h, hAt, ldh, c, cAt, ldc, m, n, k, variant, sa, accumulate);
    }

    private static void multiply(OffHeap packed, OffHeap h, long hAt, long ldh, OffHeap c, long cAt, long ldc, int m,
                                 int n, int k, int variant, OffHeap sa, boolean accumulate) {
        Core core = core();
        multiply(core.kernel, core.itcopy, packed.address(0, 1, packedLength(m, k), packedLength(m, k)),
                h.address(hAt, k, ldh, n), ldh, c.address(cAt, m, ldc, n), ldc, m, n, k, core.p, core.q,
                core.unrollM, core.unrollN, variant == 2 ? 1 : 0,
                sa.address(0, 1, scratchLength(n, k), scratchLength(n, k)), accumulate);
    }

    private static OffHeap buffer(long length) {
        return new OffHeap(Nd4j.createUninitializedDetached(DataType.FLOAT, length));
    }

    private static native void pack(long oncopy, long w, long ldw, int m, int k, long q, long unrollM, long packed);

    private static native void multiply(long kernel, long itcopy, long packed, long h, long ldh, long c, long ldc,
                                        int m, int n, int k, long p, long q, long unrollM, long unrollN, int wide,
                                        long sa, boolean accumulate);
}
