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

/**
 * W_ih^T and W_hh^T of every layer and direction as Java arrays, one per row ({@code I} and {@code H_out} rows of
 * 4H), for the products of a batch of one ({@link Precision#columnProduct}) in place of a GEMM with one column, whose
 * OpenBLAS call repacks the whole weight matrix on every step (most of a one-step call's time at batch 1).
 *
 * <p>A product runs in Java only where {@link #agrees} found that the Java arithmetic gives the GEMM's bits for that
 * shape and data type on this machine's BLAS (OpenBLAS splits a long K into blocks whose partial sums it adds
 * separately, which the Java loop does not): where it does not, {@link #input} and {@link #recurrent} return null and
 * the kernel keeps the GEMM. Results are therefore bit-identical either way.
 *
 * <p>Copies of one version of the parameters: whoever builds one must drop it when the parameters change (the fast
 * layer builds them only while no one else can reach its parameters, and drops them when it writes them). Immutable
 * once built: safe for concurrent use.
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
public final class ColumnProducts<A> {

    /** Per data type, (m, k) and OpenBLAS kernel set: whether the Java product gives the GEMM's bits. */
    private static final Map<String, Boolean> AGREES = new ConcurrentHashMap<>();

    private final List<A[]> inputT;
    private final List<A[]> recurrentT;

    private ColumnProducts(List<A[]> inputT, List<A[]> recurrentT) {
        this.inputT = inputT;
        this.recurrentT = recurrentT;
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
            boolean inputAgrees = agrees(num, dataType, gates, in);
            boolean recurrentAgrees = agrees(num, dataType, gates, hOut);
            for (int dir = 0; dir < config.numDirections(); dir++) {
                LstmKernel.Weights w = weights.get(layer * config.numDirections() + dir);
                input.add(inputAgrees ? transposed(num, w.wIh(), gates, in) : null);
                recurrent.add(recurrentAgrees ? transposed(num, w.wHh(), gates, hOut) : null);
            }
        }
        return new ColumnProducts<>(Collections.unmodifiableList(input), Collections.unmodifiableList(recurrent));
    }

    /** True when at least one product runs in Java (the others where the BLAS's arithmetic differs). */
    public boolean any() {
        return inputT.stream().anyMatch(a -> a != null) || recurrentT.stream().anyMatch(a -> a != null);
    }

    /** W_ih^T of layer and direction {@code index}, I rows of 4H, or null where the GEMM must run. */
    A[] input(int index) {
        return inputT.get(index);
    }

    /** W_hh^T of layer and direction {@code index}, H_out rows of 4H, or null where the GEMM must run. */
    A[] recurrent(int index) {
        return recurrentT.get(index);
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
     * True when {@link Precision#columnProduct} gives {@link Precision#gemm}'s bits for an {@code m x k} matrix times
     * one column, with and without accumulation, on random values of mixed magnitudes (three draws); decided once
     * per data type, shape and OpenBLAS kernel set. Any difference in the order of the additions shows in almost
     * every element.
     */
    static <A> boolean agrees(Precision<A> num, DataType dataType, int m, int k) {
        // keyed by the kernel set too: the kernel switch (or a test that undoes it) changes OpenBLAS's arithmetic
        String key = dataType + " " + m + "x" + k + (OpenBlasKernels.avx512KernelsInUse() ? " avx512" : "");
        return AGREES.computeIfAbsent(key, unused -> check(num, dataType, m, k));
    }

    private static <A> boolean check(Precision<A> num, DataType dataType, int m, int k) {
        Random random = new Random(31L * m + k);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            for (int draw = 0; draw < 3; draw++) {
                INDArray w = randomArray(random, dataType, m, k);
                INDArray x = randomArray(random, dataType, k, 1);
                INDArray c = randomArray(random, dataType, m, 1);
                A wJava = num.alloc(m * k);
                num.get(w, wJava, m * k);
                A[] wT = transposedRows(num, wJava, m, k);
                A xJava = num.alloc(k);
                num.get(x, xJava, k);
                for (boolean accumulate : new boolean[] {false, true}) {
                    INDArray blas = c.dup('c');
                    num.gemm(false, false, m, 1, k, new OffHeap(w), 0, k, new OffHeap(x), 0, 1, accumulate,
                            new OffHeap(blas), 0, 1);
                    A expected = num.alloc(m);
                    num.get(blas, expected, m);
                    A actual = num.alloc(m);
                    if (accumulate) {
                        num.get(c, actual, m);
                    }
                    A sums = num.alloc(m);
                    num.columnProduct(wT, m, k, xJava, sums);
                    num.addSlice(actual, sums, 0, m); // C + sums, as the GEMM adds them (0 + sums without C)
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
