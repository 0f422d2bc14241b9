package io.torchlstm4j.platform;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * The library's native library ({@code app/src/main/c}, built for Linux x86-64 in two variants: AVX-512 and AVX2):
 * loading the variant the CPU runs after a self-check against the Java gate math, and the fast engine's result memory
 * it allocates ({@link #uninitialized}). Its kernel-level functions are {@link NativeGates}'.
 *
 * <p>Loaded where {@link NativePlatform} initialises with the effect {@code NATIVE_LIBRARY} allowed: on Linux x86-64
 * with AVX-512F/CD/BW/DQ/VL ({@link #RESOURCE_AVX512}), or else with AVX2 and FMA ({@link #RESOURCE_AVX2}), when that
 * variant is on the class path next to this class and passes its check. The float32 gate math then runs natively
 * ({@link #nativeGateMath()}) unless the system property {@code torchlstm4j.native} is {@code off} when a layer
 * decides.
 *
 * <p>Safe for concurrent use: loading runs once, under a lock; the allocator is thread-safe.
 */
public final class NativeLibrary {

    /**
     * System property: {@code auto} (default) or {@code off}. Off when the platform initialises: the library is never
     * loaded ({@link NativePlatform}); set later: layers that decide afterwards run the Java gate math.
     */
    public static final String PROPERTY = NativePlatform.Effect.NATIVE_LIBRARY.property();

    private static final Logger LOG = LoggerFactory.getLogger(NativeLibrary.class);
    /** The library for AVX-512 CPUs, next to this class; the build leaves it out where gcc is missing. */
    public static final String RESOURCE_AVX512 = "libtorchlstm4j-linux-x86_64-avx512.so";
    /** The library for CPUs with AVX2 and FMA but not AVX-512, next to this class (built with the other). */
    public static final String RESOURCE_AVX2 = "libtorchlstm4j-linux-x86_64-avx2.so";
    /** The CPU flags {@link #RESOURCE_AVX2} needs. */
    public static final Set<String> AVX2 = Set.of("avx2", "fma");
    /** Whether {@link #load} loaded and checked the library (false before it ran or when it was not allowed). */
    private static volatile boolean loaded;
    private static volatile String status = "not loaded";
    /** Whether the loaded variant is {@link #RESOURCE_AVX2}. */
    private static volatile boolean avx2Variant;

    /** From this size {@link #uninitialized} allocates the memory itself. */
    public static final long OWN_MEMORY_BYTES = 64 * 1024;
    /** The addresses of {@link #onOwnedMemory} memory not freed yet (for tests). */
    private static final Set<Long> LIVE = ConcurrentHashMap.newKeySet();

    private NativeLibrary() {
    }

    /**
     * True when the native library is loaded and checked ({@link NativePlatform}, which this initialises) and the
     * system property {@code torchlstm4j.native} is not {@code off} now.
     *
     * @return whether a float32 layer without projections that decides now runs its gate math natively
     */
    public static boolean nativeGateMath() {
        return NativePlatform.allowed(NativePlatform.Effect.NATIVE_LIBRARY) && loaded
                && !"off".equalsIgnoreCase(System.getProperty(PROPERTY, "auto").trim());
    }

    /**
     * What loading found, for logs and reports: {@code "loaded (AVX-512)"}, {@code "loaded (AVX2)"}, or why the Java
     * loops run instead.
     *
     * @return the status; does not load anything ({@link NativePlatform#initialize()} does)
     */
    public static String status() {
        return status;
    }

    /** True when the library (either variant) is loaded and checked, whatever {@code torchlstm4j.native} says. */
    static boolean loaded() {
        return loaded;
    }

    /** True when the library is loaded and checked in its AVX2 variant (whatever {@code torchlstm4j.native} says). */
    static boolean avx2Variant() {
        return loaded && avx2Variant;
    }

    /** Loads and checks the library (once, from {@link NativePlatform#initialize()}); returns the status. */
    static synchronized String load() {
        loaded = tryLoad();
        return status;
    }

    private static boolean tryLoad() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        try {
            if (!os.startsWith("linux") || !arch.equals("amd64")) {
                status = "not built for " + os + "/" + arch + ": Java gate math";
                return false;
            }
            Set<String> flags = OpenBlasKernels.cpuFlags();
            boolean avx512 = flags.containsAll(OpenBlasKernels.AVX512);
            if (!avx512 && !flags.containsAll(AVX2)) {
                status = "this CPU lacks AVX2 and FMA: Java gate math";
                return false;
            }
            String resource = avx512 ? RESOURCE_AVX512 : RESOURCE_AVX2;
            String variant = avx512 ? "AVX-512" : "AVX2";
            if (NativeLibrary.class.getResource(resource) == null) {
                status = "the library has no " + resource + ": Java gate math";
                LOG.warn("fast LSTM: {} is missing from the classpath; the gate math runs in Java (slower)", resource);
                return false;
            }
            // JavaCPP's cache (~/.javacpp/cache, as for ND4J's own libraries): extracted once, reused while the jar's
            // entry keeps its size and time, where a fresh temporary file per process costs start-up time.
            File file = Loader.cacheResource(NativeLibrary.class, resource);
            System.load(file.getAbsolutePath());
            if (!agreesWithJava()) {
                status = "the native gate math disagreed with the Java loops in its check: Java gate math";
                LOG.warn("fast LSTM: {}", status);
                return false;
            }
            status = "loaded (" + variant + ")";
            avx2Variant = !avx512;
            return true;
        } catch (IOException | RuntimeException | LinkageError e) {
            status = "could not be loaded (" + e + "): Java gate math";
            LOG.warn("fast LSTM: the native gate math {}", status);
            return false;
        }
    }

    /**
     * A new c-order vector of {@code length} elements, not initialised, in memory whose pages are faulted in by one
     * system call ({@code madvise(MADV_POPULATE_WRITE)}, Linux 5.14+) rather than one page fault per 4 KiB page;
     * counted against JavaCPP's limits and freed when unreachable ({@link #onOwnedMemory}), as ND4J's own memory is.
     * For results that are written whole at once, such as the fast engine's output, h_n and c_n.
     *
     * <p>Why: ND4J's {@code createUninitialized} zeroes its memory, which page-faults in every page of a fresh
     * allocation, and the fast engine's forward returns fresh memory on every call; populating the pages at once
     * costs a fraction of that (figures in docs/design.md).
     *
     * <p>Where the library is not loaded, the memory comes from JavaCPP's {@code Pointer.malloc}, owned and counted
     * the same way: ND4J's own arrays are not counted by JavaCPP, so a loop of calls would otherwise grow resident
     * memory until the garbage collector happens to run (about 1 GiB at {@code -Xmx256m} in the MNIST-size long run).
     *
     * <p>Below {@value #OWN_MEMORY_BYTES} bytes (where the system call and the deallocator cost more than they save),
     * where the allocator is turned off ({@link NativePlatform}), or for data types other than float32 and float64,
     * the memory is an uninitialised buffer of ND4J's.
     */
    public static INDArray uninitialized(DataType dataType, long length) {
        return vector(uninitializedBuffer(dataType, length), length);
    }

    /**
     * The memory of {@link #uninitialized} as a buffer, for a caller that makes its own array on it (with a shape info
     * it keeps, see {@link ReusedShape}: ND4J makes a native shape info for every array it creates). Below
     * {@value #OWN_MEMORY_BYTES} bytes, a buffer of ND4J's, not initialised.
     */
    public static DataBuffer uninitializedBuffer(DataType dataType, long length) {
        long bytes = length * dataType.width();
        boolean own = NativePlatform.allowed(NativePlatform.Effect.RESULT_ALLOCATOR)
                && (dataType == DataType.FLOAT || dataType == DataType.DOUBLE)
                && bytes >= OWN_MEMORY_BYTES;
        if (own && loaded) {
            long address = allocate(bytes);
            if (address != 0) {
                return ownedBuffer(dataType, length, address, NativeLibrary::release);
            }
        } else if (own) {
            Pointer memory = Pointer.malloc(bytes);
            if (memory != null && !memory.isNull()) {
                return ownedBuffer(dataType, length, memory.address(),
                        freed -> Pointer.free(OpenBlasKernels.at(freed)));
            }
        }
        return Nd4j.getDataBufferFactory().create(dataType, length, false);
    }

    private static INDArray vector(DataBuffer buffer, long length) {
        return Nd4j.create(buffer, new long[] {length}, new long[] {1}, 0, 'c');
    }

    /**
     * A c-order vector of {@code length} float32 or float64 elements on the memory at {@code address}, which it
     * owns: the memory is counted in JavaCPP's {@code Pointer.totalBytes()} (so an allocation that would pass
     * {@code Pointer.maxBytes()}, by default the maximum heap size, first runs the garbage collector and waits for
     * memory to come back, as for ND4J's own arrays) and {@code free} is called once the array and every view of
     * it are unreachable (by JavaCPP's deallocator thread, or at the latest by {@code Pointer.deallocateReferences}).
     */
    public static INDArray onOwnedMemory(DataType dataType, long length, long address, LongConsumer free) {
        return vector(ownedBuffer(dataType, length, address, free), length);
    }

    /** {@link #onOwnedMemory}'s buffer. */
    private static DataBuffer ownedBuffer(DataType dataType, long length, long address, LongConsumer free) {
        LIVE.add(address);
        Pointer owner;
        try {
            owner = dataType == DataType.FLOAT ? new OwnedFloats(address, length, free)
                    : new OwnedDoubles(address, length, free);
        } catch (RuntimeException | Error e) {
            // JavaCPP's deallocator(...) frees the memory itself when it throws (an OutOfMemoryError past maxBytes)
            LIVE.remove(address);
            throw e;
        }
        // the indexer holds the pointer and the buffer holds the indexer, so the memory lives as long as the buffer
        // (which every view of the array references)
        return owner instanceof FloatPointer floats
                ? Nd4j.createBuffer(floats, dataType, length, FloatIndexer.create(floats))
                : Nd4j.createBuffer(owner, dataType, length, DoubleIndexer.create((DoublePointer) owner));
    }

    /** float32 memory owned through JavaCPP's accounting ({@link #onOwnedMemory}). */
    private static final class OwnedFloats extends FloatPointer {
        OwnedFloats(long address, long length, LongConsumer free) {
            this.address = address;
            this.capacity = length;
            this.limit = length;
            deallocator(new Release(address, free));
        }

        @Override
        public int sizeof() {
            return Float.BYTES;
        }

        /**
         * Frees owned memory (after removing it from {@link #LIVE}, so tests never see freed memory as live). Static:
         * a deallocator that referenced its pointer would keep it reachable for ever.
         */
        static final class Release implements Deallocator {
            private final long address;
            private final LongConsumer free;

            Release(long address, LongConsumer free) {
                this.address = address;
                this.free = free;
            }

            @Override
            public void deallocate() {
                LIVE.remove(address);
                free.accept(address);
            }
        }
    }

    /** float64 memory owned through JavaCPP's accounting ({@link #onOwnedMemory}). */
    private static final class OwnedDoubles extends DoublePointer {
        OwnedDoubles(long address, long length, LongConsumer free) {
            this.address = address;
            this.capacity = length;
            this.limit = length;
            deallocator(new OwnedFloats.Release(address, free));
        }

        @Override
        public int sizeof() {
            return Double.BYTES;
        }
    }

    /** True when {@code address} starts memory of {@link #uninitialized} that is not freed yet (for tests). */
    public static boolean isLive(long address) {
        return LIVE.contains(address);
    }

    private static native long allocate(long bytes);

    private static native void release(long address);

    /**
     * One masked forward and backward step on random values (with some NaN and out-of-range pre-activations),
     * against {@link FloatPrecision}'s loops (what the Java path runs): true when every result is bit-identical.
     */
    private static boolean agreesWithJava() {
        int hidden = 3;
        int n = 19;
        Random random = new Random(7);
        float[] gates = new float[4 * hidden * n];
        float[] bias = new float[4 * hidden];
        float[] cPrev = new float[hidden * n];
        float[] hPrev = new float[hidden * n];
        float[] dy = new float[hidden * n];
        float[] carry = new float[hidden * n];
        float[] dc = new float[hidden * n];
        float[] mask = new float[n];
        for (int k = 0; k < gates.length; k++) {
            gates[k] = (float) (random.nextGaussian() * 6);
        }
        gates[5] = Float.NaN;
        gates[n + 1] = 100f;
        gates[2 * n + 2] = -100f;
        for (int k = 0; k < hidden * n; k++) {
            cPrev[k] = (float) random.nextGaussian();
            hPrev[k] = (float) random.nextGaussian();
            dy[k] = (float) random.nextGaussian();
            carry[k] = (float) random.nextGaussian();
            dc[k] = (float) random.nextGaussian();
        }
        for (int k = 0; k < bias.length; k++) {
            bias[k] = (float) random.nextGaussian();
        }
        for (int s = 0; s < n; s++) {
            mask[s] = s % 3 == 0 ? 0f : 1f;
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            OffHeap g = offHeap(gates);
            OffHeap b = offHeap(bias);
            OffHeap y = offHeap(new float[hidden * n]);
            OffHeap m = offHeap(mask);
            // States as [H, 2 * n]: slot 0 the previous state, slot 1 the new one (the kernel's slot layout).
            OffHeap c2 = offHeap(slots(cPrev, hidden, n));
            OffHeap h2 = offHeap(slots(hPrev, hidden, n));
            NativeGates.forwardStep(g, 0, n, b, c2, 0, n, h2, 0, n, 2L * n, y, 0, n, m, 0, hidden, n);
            // The same step through FloatPrecision's loops, in the order LstmKernel's Java path calls them.
            FloatPrecision java = new FloatPrecision();
            int cells = hidden * n;
            float[] valid = new float[cells];
            for (int j = 0; j < hidden; j++) {
                System.arraycopy(mask, 0, valid, j * n, n);
            }
            float[][] act = new float[4][];
            for (int q = 0; q < 4; q++) {
                act[q] = Arrays.copyOfRange(gates, q * cells, (q + 1) * cells);
                float[] rowBias = new float[cells];
                java.broadcastRows(rowBias, bias, q * hidden, hidden, n);
                if (q == 2) {
                    java.tanh(act[q], rowBias, cells);
                } else {
                    java.sigmoid(act[q], rowBias, cells);
                }
            }
            float[] c = new float[cells];
            float[] h = new float[cells];
            float[] out = new float[cells];
            java.cell(c, act[1], cPrev, act[0], act[2], cells);
            java.outputGate(h, act[3], c, cells);
            java.keep(c, cPrev, valid, cells);
            java.keep(h, hPrev, valid, cells);
            java.multiply(out, h, valid, cells);
            boolean same = sameBits(concat(act), g, 0, 1, gates.length)
                    && sameBits(c, c2, n, 2 * n, n) && sameBits(h, h2, n, 2 * n, n) && sameBits(out, y, 0, n, n);
            OffHeap dyBuffer = offHeap(dy);
            OffHeap carryBuffer = offHeap(carry);
            OffHeap dcBuffer = offHeap(dc);
            NativeGates.backwardStep(g, 0, n, dyBuffer, 0, n, carryBuffer, c2, n, 0, 2L * n, dcBuffer, m, 0, hidden, n, 0);
            float[] dh = dy.clone();
            java.addInPlace(dh, carry, cells);
            java.multiplyInPlace(dh, valid, cells);
            float[] tanhC = new float[cells];
            java.tanhOf(tanhC, c, cells);
            float[] dcNext = dc.clone();
            java.addTanhGrad(dcNext, dh, act[3], tanhC, cells);
            java.multiplyInPlace(dcNext, valid, cells);
            float[][] grad = new float[4][cells];
            java.sigmoidGrad(grad[3], dh, tanhC, act[3], cells);
            java.sigmoidGrad(grad[0], dcNext, act[2], act[0], cells);
            java.tanhGrad(grad[2], dcNext, act[0], act[2], cells);
            java.sigmoidGrad(grad[1], dcNext, cPrev, act[1], cells);
            java.multiplyInPlace(dcNext, act[1], cells);
            return same && sameBits(concat(grad), g, 0, 1, gates.length) && sameBits(dcNext, dcBuffer, 0, 1, cells);
        }
    }

    /** The arrays one after the other. */
    private static float[] concat(float[][] parts) {
        int length = 0;
        for (float[] part : parts) {
            length += part.length;
        }
        float[] result = new float[length];
        int at = 0;
        for (float[] part : parts) {
            System.arraycopy(part, 0, result, at, part.length);
            at += part.length;
        }
        return result;
    }

    /** States [rows, 2 * n]: slot 0 holds {@code previous} ([rows, n]), slot 1 zeros. */
    private static float[] slots(float[] previous, int rows, int n) {
        float[] result = new float[rows * 2 * n];
        for (int j = 0; j < rows; j++) {
            System.arraycopy(previous, j * n, result, j * 2 * n, n);
        }
        return result;
    }

    /** A copy of {@code values} in fresh native memory (filled through its buffer: no ND4J op runs at start-up). */
    static OffHeap offHeap(float[] values) {
        OffHeap memory = new OffHeap(Nd4j.createUninitializedDetached(DataType.FLOAT, values.length));
        memory.floats().put(0, values);
        return memory;
    }

    /** True when rows of {@code expected} (contiguous) equal the buffer's, {@code stride} apart, bit for bit. */
    private static boolean sameBits(float[] expected, OffHeap actual, long offset, long stride, int rowLength) {
        int rows = expected.length / rowLength;
        for (int r = 0; r < rows; r++) {
            for (int s = 0; s < rowLength; s++) {
                float value = actual.floats().get(Math.toIntExact(offset + r * stride + s));
                if (Float.floatToIntBits(value) != Float.floatToIntBits(expected[r * rowLength + s])) {
                    return false;
                }
            }
        }
        return true;
    }
}
