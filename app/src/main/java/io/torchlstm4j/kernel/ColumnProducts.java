package io.torchlstm4j.kernel;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.OpenBlasKernels;
import io.torchlstm4j.platform.Precision;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * W_ih^T and W_hh^T of every layer and direction as Java arrays, one per row ({@code I} and {@code H_out} rows of
 * 4H), for the products of a small batch ({@link Precision#columnProducts}, up to {@link #MAX_COLUMNS} columns) in
 * place of a GEMM with few columns, whose OpenBLAS call repacks the whole weight matrix on every step (most of a
 * one-step call's time at batch 1, and what made batch 2 cost three times batch 1 at LSTM(32, 128)).
 *
 * <p>A product runs in Java only where {@link #agrees} found that the Java arithmetic gives the GEMM's bits for that
 * shape, number of columns and data type on this machine's BLAS (OpenBLAS splits a long K into blocks whose partial
 * sums it adds separately, which the Java loop does not): where it does not, {@link #input} and {@link #recurrent}
 * return null and the kernel keeps the GEMM. Results are therefore bit-identical either way.
 *
 * <p>Copies of one version of the parameters: whoever builds one must drop it when the parameters change (the fast
 * layer builds them only while no one else can reach its parameters, and drops them when it writes them). Immutable
 * once built: safe for concurrent use.
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
public final class ColumnProducts<A> {

    /** Per data type, (m, k) and OpenBLAS kernel set: whether the Java product gives the GEMM's bits. */
    private static final Map<CheckedShape, Boolean> AGREES = new ConcurrentHashMap<>();

    /** The key of {@link #AGREES}: a record rather than a string, since every small call looks it up. */
    private record CheckedShape(DataType dataType, int m, int k, int n, boolean avx512Kernels) {
    }

    /**
     * The most columns (batch times steps of one product) that take their products from the copies: beyond a few,
     * the GEMM's packing is shared by enough columns that its faster kernel wins (docs/performance.md).
     */
    public static final int MAX_COLUMNS = 6;

    /**
     * Where the GEMM path runs the native gate math, the size of W_hh (4H x H_out elements) from which a sequence of
     * two or three samples still runs faster on these products (H = H_out = 64; see {@link #pay}).
     */
    static final long LARGE_RECURRENT = 16_384;

    private final List<A[]> inputT;
    private final List<A[]> recurrentT;
    private final LstmConfig config;
    private final Precision<A> num;
    private final DataType dataType;
    /** Per (index, input or recurrent, columns): whether the Java products give the GEMM's bits (filled at first use). */
    private final AtomicReferenceArray<Boolean> agreed;

    private ColumnProducts(List<A[]> inputT, List<A[]> recurrentT, LstmConfig config, Precision<A> num,
                           DataType dataType) {
        this.inputT = inputT;
        this.recurrentT = recurrentT;
        this.config = config;
        this.num = num;
        this.dataType = dataType;
        this.agreed = new AtomicReferenceArray<>(inputT.size() * 2 * (MAX_COLUMNS + 1));
    }

    /** Transposes of {@code weights} (one entry per layer and direction, in the kernel's order). */
    static <A> ColumnProducts<A> of(LstmConfig config, Precision<A> num, DataType dataType,
                                    List<LstmKernel.Weights> weights) {
        int gates = 4 * config.hiddenSize();
        int hOut = config.outputSize();
        List<A[]> input = new ArrayList<>();
        List<A[]> recurrent = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            int in = config.layerInputSize(layer);
            boolean inputAgrees = agrees(num, dataType, gates, in, 1);
            boolean recurrentAgrees = agrees(num, dataType, gates, hOut, 1);
            for (int dir = 0; dir < config.numDirections(); dir++) {
                LstmKernel.Weights w = weights.get(layer * config.numDirections() + dir);
                input.add(inputAgrees ? transposed(num, w.wIh(), gates, in) : null);
                recurrent.add(recurrentAgrees ? transposed(num, w.wHh(), gates, hOut) : null);
            }
        }
        return new ColumnProducts<>(Collections.unmodifiableList(input), Collections.unmodifiableList(recurrent), config,
                num, dataType);
    }

    /**
     * Whether a forward of {@code batch} samples and {@code steps} steps runs faster on these Java products than on
     * GEMMs: up to {@link #MAX_COLUMNS} samples where both paths run the Java gate math (the products' steps read h
     * from Java arrays, so they keep the Java gate math); where the GEMM path runs the native gate math, only for a batch
     * of one, a call of one step (a streaming or on-line call, which the GEMM path pays a packing of W_hh for), or two
     * or three samples with W_hh of at least {@link #LARGE_RECURRENT} elements. Elsewhere the native gate math and W_hh
     * packed once per call win: a BiLSTM(10, 20, 2 layers) of 5 steps at batch 3 took 72 us on the products against
     * 62 us on GEMMs (docs/performance.md, "Batch of one"). Either path gives the same bits.
     *
     * @param gates          4H, the rows of W_hh
     * @param hOut           H_out, its columns
     * @param nativeGateMath whether the GEMM path runs the native gate math
     */
    public static boolean pay(int batch, int steps, int gates, int hOut, boolean nativeGateMath) {
        if (batch < 1 || batch > MAX_COLUMNS) {
            return false;
        }
        return !nativeGateMath || batch == 1 || steps == 1 || batch <= 3 && (long) gates * hOut >= LARGE_RECURRENT;
    }

    /** True when at least one product runs in Java (the others where the BLAS's arithmetic differs). */
    public boolean any() {
        return inputT.stream().anyMatch(a -> a != null) || recurrentT.stream().anyMatch(a -> a != null);
    }

    /**
     * W_ih^T of layer and direction {@code index}, I rows of 4H, for a product of {@code columns} columns, or null
     * where the GEMM must run.
     */
    A[] input(int index, int columns) {
        return usable(inputT.get(index), index, 0, config.layerInputSize(index / config.numDirections()), columns);
    }

    /**
     * W_hh^T of layer and direction {@code index}, H_out rows of 4H, for a product of {@code columns} columns, or null
     * where the GEMM must run.
     */
    A[] recurrent(int index, int columns) {
        return usable(recurrentT.get(index), index, 1, config.outputSize(), columns);
    }

    private A[] usable(A[] transposed, int index, int kind, int k, int columns) {
        if (transposed == null || columns < 1 || columns > MAX_COLUMNS) {
            return null;
        }
        int slot = (index * 2 + kind) * (MAX_COLUMNS + 1) + columns;
        Boolean ok = agreed.get(slot);
        if (ok == null) {
            ok = agrees(num, dataType, 4 * config.hiddenSize(), k, columns);
            agreed.set(slot, ok);
        }
        return ok ? transposed : null;
    }

    /** {@code [rows, k]} row-major memory as k Java arrays of {@code rows}: its transpose, one array per row. */
    private static <A> A[] transposed(Precision<A> num, OffHeap w, int rows, int k) {
        A plain = num.alloc(rows * k);
        num.get(w, 0, plain, 0, rows * k);
        return transposedRows(num, plain, rows, k);
    }

    private static <A> A[] transposedRows(Precision<A> num, A plain, int rows, int k) {
        A flat = num.alloc(rows * k);
        num.transpose(plain, 0, rows, k, flat);
        A[] out = num.allocMany(k, rows);
        for (int kk = 0; kk < k; kk++) {
            System.arraycopy(flat, kk * rows, out[kk], 0, rows);
        }
        return out;
    }

    /**
     * True when {@link Precision#columnProducts} gives {@link Precision#gemm}'s bits for an {@code m x k} matrix
     * times {@code n} columns, with and without accumulation, on random values of mixed magnitudes (three draws);
     * decided once per data type, shape, number of columns and OpenBLAS kernel set. Any difference in the order of the
     * additions shows in almost every element.
     */
    static <A> boolean agrees(Precision<A> num, DataType dataType, int m, int k, int n) {
        // keyed by the kernel set too: the kernel switch (or a test that undoes it) changes OpenBLAS's arithmetic
        CheckedShape key = new CheckedShape(dataType, m, k, n, OpenBlasKernels.avx512KernelsInUse());
        return AGREES.computeIfAbsent(key, unused -> check(num, dataType, m, k, n));
    }

    private static <A> boolean check(Precision<A> num, DataType dataType, int m, int k, int n) {
        Random random = new Random(31L * m + k + 1009L * n);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (int draw = 0; draw < 3; draw++) {
                INDArray w = randomArray(random, dataType, m, k);
                INDArray x = randomArray(random, dataType, k, n);
                INDArray c = randomArray(random, dataType, m, n);
                A wJava = num.alloc(m * k);
                num.get(w, wJava, m * k);
                A[] wT = transposedRows(num, wJava, m, k);
                A xJava = num.alloc(k * n);
                num.get(x, xJava, k * n);
                for (boolean accumulate : new boolean[] {false, true}) {
                    INDArray blas = c.dup('c');
                    num.gemm(false, false, m, n, k, new OffHeap(w), 0, k, new OffHeap(x), 0, n, accumulate,
                            new OffHeap(blas), 0, n);
                    A expected = num.alloc(m * n);
                    num.get(blas, expected, m * n);
                    A actual = num.alloc(m * n);
                    if (accumulate) {
                        num.get(c, actual, m * n);
                    }
                    A[] sums = num.allocMany(n, m);
                    num.columnProducts(wT, m, k, xJava, n, sums);
                    num.addColumns(actual, sums, 0, m, n); // C + sums, as the GEMM adds them (0 + sums without C)
                    if (!sameBits(expected, actual)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static INDArray randomArray(Random random, DataType dataType, int rows, int cols) {
        double[] values = new double[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3);
        }
        return Nd4j.createFromArray(values).castTo(dataType).reshape('c', rows, cols);
    }

    private static boolean sameBits(Object a, Object b) {
        if (a instanceof float[] fa && b instanceof float[] fb) {
            for (int i = 0; i < fa.length; i++) {
                if (Float.floatToRawIntBits(fa[i]) != Float.floatToRawIntBits(fb[i])) {
                    return false;
                }
            }
            return true;
        }
        return Arrays.equals((double[]) a, (double[]) b);
    }
}
