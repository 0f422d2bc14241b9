package io.torchlstm4j.platform;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Everything of the LSTM kernel that depends on the element type {@code A} ({@code float[]} or {@code double[]}):
 * Java arrays, bulk copies between them and off-heap ND4J memory, BLAS calls, and the element-wise gate math.
 *
 * <p>Each element-wise method is one plain loop over the first {@code n} elements of arrays that start at index 0,
 * so the JIT compiles it to SIMD code. Arrays passed as different parameters never alias unless said so.
 *
 * <p>Safe for concurrent use: instances keep no state; every method works only on the arrays and memory it is given,
 * which callers must not share between concurrent calls.
 */
public abstract class Precision<A> {

    public static Precision<?> of(DataType dataType) {
        return switch (dataType) {
            case FLOAT -> new FloatPrecision();
            case DOUBLE -> new DoublePrecision();
            default -> throw new IllegalArgumentException("the fast LSTM runs in FLOAT or DOUBLE, got " + dataType);
        };
    }

    public abstract A alloc(int n);

    public abstract A[] allocMany(int count, int n);

    public abstract A[][] allocGrid(int rows, int cols, int n);

    public abstract void fill(A a, double value);

    /** {@code [rows, N]}: 1 at (j, s) when {@code t < lengths[s]}, else 0. */
    public abstract A validity(int[] lengths, int t, int rows);

    /** {@code dst[offset ..] = src[index ..]}, {@code length} elements. */
    public abstract void get(OffHeap src, long index, A dst, int offset, int length);

    /** {@code dst[0 ..] = } the first {@code length} elements of a contiguous c-order array of this precision. */
    public abstract void get(org.nd4j.linalg.api.ndarray.INDArray src, A dst, int length);

    /** {@code dst[index ..] = src[offset ..]}, {@code length} elements. */
    public abstract void put(A src, int offset, OffHeap dst, long index, int length);

    /** {@code out[j * n + s] = source[offset + s * rows + j]}: a [n, rows] block, transposed to [rows, n]. */
    public abstract void transpose(A source, int offset, int n, int rows, A out);

    /**
     * Writes (states.size(), N, rows) c-order at {@code dst[index ..]}: each state, stored [rows, N], transposed, through
     * {@code staging} (at least states.size() * rows * N elements).
     */
    public abstract void putStates(java.util.List<A> states, int rows, int n, A staging, OffHeap dst, long index);

    /**
     * Row-major {@code C = op(A) op(B) (+ C when accumulate)}, op(A) m x k, op(B) k x n; offsets and leading
     * dimensions in elements.
     */
    public abstract void gemm(boolean transA, boolean transB, int m, int n, int k, OffHeap a, long aOffset, int lda,
                       OffHeap b, long bOffset, int ldb, boolean accumulate, OffHeap c, long cOffset, int ldc);

    /** Row-major {@code y = A x}, A m x n. */
    public abstract void gemv(int m, int n, OffHeap a, int lda, OffHeap x, OffHeap y);

    /** {@code out[j * n + s] = source[offset + j]} for every column s &lt; n: a bias broadcast over the batch. */
    public abstract void broadcastRows(A out, A source, int offset, int rows, int n);

    /** {@code x = sigmoid(x + bias)}. */
    public abstract void sigmoid(A x, A bias, int n);

    /** {@code x = tanh(x + bias)}. */
    public abstract void tanh(A x, A bias, int n);

    /** {@code out = tanh(x)}. */
    public abstract void tanhOf(A out, A x, int n);

    /** {@code c = f * cPrev + i * g}. */
    public abstract void cell(A c, A f, A cPrev, A i, A g, int n);

    /** {@code h = o * tanh(c)}. */
    public abstract void outputGate(A h, A o, A c, int n);

    /** {@code target = old + mask * (target - old)}: keeps {@code old} where the mask is 0. */
    public abstract void keep(A target, A old, A mask, int n);

    /** {@code out = a * b}. */
    public abstract void multiply(A out, A a, A b, int n);

    /** {@code a = a * b}. */
    public abstract void multiplyInPlace(A a, A b, int n);

    /** {@code a = a + b}. */
    public abstract void addInPlace(A a, A b, int n);

    /**
     * A matrix times one column, in Java: {@code acc[i]} for {@code i < m} is the sum over {@code kk < k} of
     * {@code rowsT[kk][i] * x[kk]} (the matrix transposed, one array per row), accumulated from zero by one fused
     * multiply-add after another in increasing {@code kk}. That is the arithmetic of OpenBLAS's x86-64 GEMM kernels
     * for a single column up to their K block (which then add C), so the bits can equal {@link #gemm}'s;
     * {@code io.torchlstm4j.kernel.ColumnProducts} checks that they do before it uses this.
     */
    public abstract void columnProduct(A[] rowsT, int m, int k, A x, A acc);

    /**
     * {@link #columnProduct} for {@code n} columns at once: {@code acc[c][i]} for {@code c < n} and {@code i < m} is
     * the sum over {@code kk < k} of {@code rowsT[kk][i] * x[kk * n + c]}, each element by the same chain of fused
     * multiply-adds in increasing {@code kk} as one column's; each row of the matrix is read once for all n columns.
     */
    public abstract void columnProducts(A[] rowsT, int m, int k, A x, int n, A[] acc);

    /** {@code target[i] = target[i] + source[offset + i]} for {@code i < n}. */
    public abstract void addSlice(A target, A source, int offset, int n);

    /**
     * {@code target[j * n + c] = target[j * n + c] + sources[c][offset + j]} for {@code j < rows} and {@code c < n}:
     * {@link #addSlice} of n columns into a block of rows of n.
     */
    public abstract void addColumns(A target, A[] sources, int offset, int rows, int n);

    /** {@code acc = acc + a * b * (1 - t * t)}: backprop through a tanh whose output is t. */
    public abstract void addTanhGrad(A acc, A a, A b, A t, int n);

    /** {@code out = a * b * (1 - t * t)}. */
    public abstract void tanhGrad(A out, A a, A b, A t, int n);

    /** {@code out = a * b * s * (1 - s)}: backprop through a sigmoid whose output is s. */
    public abstract void sigmoidGrad(A out, A a, A b, A s, int n);
}
