package io.torchlstm4j.platform;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * float64: OpenBLAS {@code dgemm} and loops with the JDK's {@code Math.tanh} and {@code Math.exp} (within 1 ulp), as
 * exact as PyTorch's double LSTM. The loops mirror {@link FloatPrecision}'s; only the element type differs.
 *
 * <p>Safe for concurrent use: it keeps no state (see {@link Precision}).
 */
public final class DoublePrecision extends Precision<double[]> {

    @Override
    public double[] alloc(int n) {
        return new double[n];
    }

    @Override
    public double[][] allocMany(int count, int n) {
        return new double[count][n];
    }

    @Override
    public double[][][] allocGrid(int rows, int cols, int n) {
        return new double[rows][cols][n];
    }

    @Override
    public double[] validity(int[] lengths, int t, int rows) {
        int n = lengths.length;
        double[] mask = new double[rows * n];
        for (int s = 0; s < n; s++) {
            if (t < lengths[s]) {
                for (int j = 0; j < rows; j++) {
                    mask[j * n + s] = 1d;
                }
            }
        }
        return mask;
    }

    @Override
    public void fill(double[] a, double value) {
        Arrays.fill(a, value);
    }

    @Override
    public void get(OffHeap src, long index, double[] dst, int offset, int length) {
        src.doubles().get(Math.toIntExact(index), dst, offset, length);
    }

    @Override
    public void get(INDArray src, double[] dst, int length) {
        if (length > src.length()) {
            throw new IllegalStateException("internal: " + length + " elements asked of an array of " + src.length());
        }
        Pointer first = OffHeap.first(src);
        (first instanceof DoublePointer p ? p : new DoublePointer(first)).get(dst, 0, length);
    }

    @Override
    public void put(double[] src, int offset, OffHeap dst, long index, int length) {
        dst.doubles().put(Math.toIntExact(index), src, offset, length);
    }

    @Override
    public void transpose(double[] source, int offset, int n, int rows, double[] out) {
        for (int j = 0; j < rows; j++) {
            for (int s = 0; s < n; s++) {
                out[j * n + s] = source[offset + s * rows + j];
            }
        }
    }

    @Override
    public void putStates(List<double[]> states, int rows, int n, double[] out, OffHeap dst, long index) {
        for (int k = 0; k < states.size(); k++) {
            double[] state = states.get(k);
            int base = k * rows * n;
            for (int j = 0; j < rows; j++) {
                for (int s = 0; s < n; s++) {
                    out[base + s * rows + j] = state[j * n + s];
                }
            }
        }
        put(out, 0, dst, index, states.size() * rows * n);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, OffHeap a, long aOffset, int lda,
                     OffHeap b, long bOffset, int ldb, boolean accumulate, OffHeap c, long cOffset, int ldc) {
        openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor,
                transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                m, n, k, 1d, a.doubleAt(aOffset), lda, b.doubleAt(bOffset), ldb, accumulate ? 1d : 0d,
                c.doubleAt(cOffset), ldc);
    }

    @Override
    public void gemv(int m, int n, OffHeap a, int lda, OffHeap x, OffHeap y) {
        openblas_nolapack.cblas_dgemv(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans, m, n, 1d,
                a.doubleAt(0), lda, x.doubleAt(0), 1, 0d, y.doubleAt(0), 1);
    }

    @Override
    public void broadcastRows(double[] out, double[] source, int offset, int rows, int n) {
        for (int j = 0; j < rows; j++) {
            Arrays.fill(out, j * n, (j + 1) * n, source[offset + j]);
        }
    }

    private static double sigmoid(double x) {
        return 1d / (1d + Math.exp(-x));
    }

    @Override
    public void sigmoid(double[] x, double[] bias, int n) {
        for (int k = 0; k < n; k++) {
            x[k] = sigmoid(x[k] + bias[k]);
        }
    }

    @Override
    public void tanh(double[] x, double[] bias, int n) {
        for (int k = 0; k < n; k++) {
            x[k] = Math.tanh(x[k] + bias[k]);
        }
    }

    @Override
    public void tanhOf(double[] out, double[] x, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = Math.tanh(x[k]);
        }
    }

    @Override
    public void cell(double[] c, double[] f, double[] cPrev, double[] i, double[] g, int n) {
        for (int k = 0; k < n; k++) {
            c[k] = f[k] * cPrev[k] + i[k] * g[k];
        }
    }

    @Override
    public void outputGate(double[] h, double[] o, double[] c, int n) {
        for (int k = 0; k < n; k++) {
            h[k] = o[k] * Math.tanh(c[k]);
        }
    }

    @Override
    public void keep(double[] target, double[] old, double[] mask, int n) {
        for (int k = 0; k < n; k++) {
            target[k] = old[k] + mask[k] * (target[k] - old[k]);
        }
    }

    @Override
    public void multiply(double[] out, double[] a, double[] b, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = a[k] * b[k];
        }
    }

    @Override
    public void multiplyInPlace(double[] a, double[] b, int n) {
        for (int k = 0; k < n; k++) {
            a[k] *= b[k];
        }
    }

    @Override
    public void addInPlace(double[] a, double[] b, int n) {
        for (int k = 0; k < n; k++) {
            a[k] += b[k];
        }
    }

    @Override
    public void columnProduct(double[][] rowsT, int m, int k, double[] x, double[] acc) {
        Arrays.fill(acc, 0, m, 0d);
        int kk = 0;
        for (; kk + 3 < k; kk += 4) {
            addFourRows(acc, rowsT[kk], rowsT[kk + 1], rowsT[kk + 2], rowsT[kk + 3], x[kk], x[kk + 1], x[kk + 2],
                    x[kk + 3], m);
        }
        for (; kk < k; kk++) {
            addRow(acc, rowsT[kk], x[kk], m);
        }
    }

    @Override
    public void columnProducts(double[][] rowsT, int m, int k, double[] x, int n, double[][] acc) {
        if (n == 1) { // one column: its own loop
            columnProduct(rowsT, m, k, x, acc[0]);
            return;
        }
        for (int c = 0; c < n; c++) {
            Arrays.fill(acc[c], 0, m, 0d);
        }
        int kk = 0;
        for (; kk + 3 < k; kk += 4) {
            double[] w0 = rowsT[kk];
            double[] w1 = rowsT[kk + 1];
            double[] w2 = rowsT[kk + 2];
            double[] w3 = rowsT[kk + 3];
            for (int c = 0; c < n; c++) {
                addFourRows(acc[c], w0, w1, w2, w3, x[kk * n + c], x[(kk + 1) * n + c], x[(kk + 2) * n + c],
                        x[(kk + 3) * n + c], m);
            }
        }
        for (; kk < k; kk++) {
            for (int c = 0; c < n; c++) {
                addRow(acc[c], rowsT[kk], x[kk * n + c], m);
            }
        }
    }

    // Kept apart, with whole rows from index 0, so that C2 vectorises the loops (it does not where the rows are
    // slices of one array at a variable offset); four rows per pass read and write acc once for four multiply-adds
    // in the same order.
    private static void addFourRows(double[] acc, double[] w0, double[] w1, double[] w2, double[] w3, double x0, double x1,
                                    double x2, double x3, int m) {
        for (int i = 0; i < m; i++) {
            acc[i] = Math.fma(w3[i], x3, Math.fma(w2[i], x2, Math.fma(w1[i], x1, Math.fma(w0[i], x0, acc[i]))));
        }
    }

    private static void addRow(double[] acc, double[] w, double x, int m) {
        for (int i = 0; i < m; i++) {
            acc[i] = Math.fma(w[i], x, acc[i]);
        }
    }

    @Override
    public void addSlice(double[] target, double[] source, int offset, int n) {
        for (int i = 0; i < n; i++) {
            target[i] += source[offset + i];
        }
    }

    @Override
    public void addColumns(double[] target, double[][] sources, int offset, int rows, int n) {
        if (n == 1) { // one column: the contiguous loop, which C2 vectorises
            addSlice(target, sources[0], offset, rows);
            return;
        }
        for (int c = 0; c < n; c++) {
            double[] source = sources[c];
            for (int j = 0; j < rows; j++) {
                target[j * n + c] += source[offset + j];
            }
        }
    }

    @Override
    public void addTanhGrad(double[] acc, double[] a, double[] b, double[] t, int n) {
        for (int k = 0; k < n; k++) {
            acc[k] += a[k] * b[k] * (1d - t[k] * t[k]);
        }
    }

    @Override
    public void tanhGrad(double[] out, double[] a, double[] b, double[] t, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = a[k] * b[k] * (1d - t[k] * t[k]);
        }
    }

    @Override
    public void sigmoidGrad(double[] out, double[] a, double[] b, double[] s, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = a[k] * b[k] * s[k] * (1d - s[k]);
        }
    }
}
