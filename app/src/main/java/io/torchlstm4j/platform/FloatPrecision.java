package io.torchlstm4j.platform;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * float32: OpenBLAS {@code sgemm} and SIMD-friendly loops with a rational tanh.
 *
 * <p>tanh is the rational approximation {@code x P(x^2) / Q(x^2)} on x clamped to [-7.9053, 7.9053] (the
 * coefficients of Eigen's {@code generic_fast_tanh_float}); sigmoid(x) = (1 + tanh(x / 2)) / 2. Both stay within
 * 4e-7 of the exact values over all floats, and compile to vector code where {@code Math.exp} would not.
 *
 * <p>Safe for concurrent use: it keeps no state (see {@link Precision}).
 */
public final class FloatPrecision extends Precision<float[]> {

    private static final float CLAMP = 7.90531110763549805f;
    private static final float A1 = 4.89352455891786e-03f;
    private static final float A3 = 6.37261928875436e-04f;
    private static final float A5 = 1.48572235717979e-05f;
    private static final float A7 = 5.12229709037114e-08f;
    private static final float A9 = -8.60467152213735e-11f;
    private static final float A11 = 2.00018790482477e-13f;
    private static final float A13 = -2.76076847742355e-16f;
    private static final float B0 = 4.89352518554385e-03f;
    private static final float B2 = 2.26843463243900e-03f;
    private static final float B4 = 1.18534705686654e-04f;
    private static final float B6 = 1.19825839466702e-06f;

    static float tanh(float value) {
        return rational(clamp(value));
    }

    /** x clamped to [-CLAMP, CLAMP], where the rational approximation is valid. */
    private static float clamp(float x) {
        return Math.max(Math.min(x, CLAMP), -CLAMP);
    }

    /** Eigen's rational approximation of tanh on an already clamped x. */
    private static float rational(float x) {
        float x2 = x * x;
        float p = x2 * A13 + A11;
        p = x2 * p + A9;
        p = x2 * p + A7;
        p = x2 * p + A5;
        p = x2 * p + A3;
        p = x2 * p + A1;
        float q = x2 * B6 + B4;
        q = x2 * q + B2;
        q = x2 * q + B0;
        return x * p / q;
    }

    static float sigmoid(float x) {
        return 0.5f * tanh(0.5f * x) + 0.5f;
    }

    @Override
    public float[] alloc(int n) {
        return new float[n];
    }

    @Override
    public float[][] allocMany(int count, int n) {
        return new float[count][n];
    }

    @Override
    public float[][][] allocGrid(int rows, int cols, int n) {
        return new float[rows][cols][n];
    }

    @Override
    public float[] validity(int[] lengths, int t, int rows) {
        int n = lengths.length;
        float[] mask = new float[rows * n];
        for (int s = 0; s < n; s++) {
            if (t < lengths[s]) {
                for (int j = 0; j < rows; j++) {
                    mask[j * n + s] = 1f;
                }
            }
        }
        return mask;
    }

    @Override
    public void fill(float[] a, double value) {
        Arrays.fill(a, (float) value);
    }

    @Override
    public void get(OffHeap src, long index, float[] dst, int offset, int length) {
        src.floats().get(Math.toIntExact(index), dst, offset, length);
    }

    @Override
    public void get(INDArray src, float[] dst, int length) {
        if (length > src.length()) {
            throw new IllegalStateException("internal: " + length + " elements asked of an array of " + src.length());
        }
        Pointer first = OffHeap.first(src);
        (first instanceof FloatPointer p ? p : new FloatPointer(first)).get(dst, 0, length);
    }

    @Override
    public void put(float[] src, int offset, OffHeap dst, long index, int length) {
        dst.floats().put(Math.toIntExact(index), src, offset, length);
    }

    @Override
    public void transpose(float[] source, int offset, int n, int rows, float[] out) {
        for (int j = 0; j < rows; j++) {
            for (int s = 0; s < n; s++) {
                out[j * n + s] = source[offset + s * rows + j];
            }
        }
    }

    @Override
    public void putStates(List<float[]> states, int rows, int n, float[] out, OffHeap dst, long index) {
        for (int k = 0; k < states.size(); k++) {
            float[] state = states.get(k);
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
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor,
                transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                m, n, k, 1f, a.floatAt(aOffset), lda, b.floatAt(bOffset), ldb, accumulate ? 1f : 0f,
                c.floatAt(cOffset), ldc);
    }

    @Override
    public void gemv(int m, int n, OffHeap a, int lda, OffHeap x, OffHeap y) {
        openblas_nolapack.cblas_sgemv(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans, m, n, 1f,
                a.floatAt(0), lda, x.floatAt(0), 1, 0f, y.floatAt(0), 1);
    }

    @Override
    public void broadcastRows(float[] out, float[] source, int offset, int rows, int n) {
        for (int j = 0; j < rows; j++) {
            Arrays.fill(out, j * n, (j + 1) * n, source[offset + j]);
        }
    }

    // The element-wise loops below clamp in a first pass and evaluate the rational function in a second: C2
    // vectorises both either way, but the two short loops run faster than one with the clamp inside
    // (docs/design.md). The results are bit-identical.

    @Override
    public void sigmoid(float[] x, float[] bias, int n) {
        for (int k = 0; k < n; k++) {
            x[k] = clamp(0.5f * (x[k] + bias[k]));
        }
        for (int k = 0; k < n; k++) {
            x[k] = 0.5f * rational(x[k]) + 0.5f;
        }
    }

    @Override
    public void tanh(float[] x, float[] bias, int n) {
        for (int k = 0; k < n; k++) {
            x[k] = clamp(x[k] + bias[k]);
        }
        for (int k = 0; k < n; k++) {
            x[k] = rational(x[k]);
        }
    }

    @Override
    public void tanhOf(float[] out, float[] x, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = clamp(x[k]);
        }
        for (int k = 0; k < n; k++) {
            out[k] = rational(out[k]);
        }
    }

    @Override
    public void cell(float[] c, float[] f, float[] cPrev, float[] i, float[] g, int n) {
        for (int k = 0; k < n; k++) {
            c[k] = f[k] * cPrev[k] + i[k] * g[k];
        }
    }

    @Override
    public void outputGate(float[] h, float[] o, float[] c, int n) {
        for (int k = 0; k < n; k++) {
            h[k] = clamp(c[k]);
        }
        for (int k = 0; k < n; k++) {
            h[k] = o[k] * rational(h[k]);
        }
    }

    @Override
    public void keep(float[] target, float[] old, float[] mask, int n) {
        for (int k = 0; k < n; k++) {
            target[k] = old[k] + mask[k] * (target[k] - old[k]);
        }
    }

    @Override
    public void multiply(float[] out, float[] a, float[] b, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = a[k] * b[k];
        }
    }

    @Override
    public void multiplyInPlace(float[] a, float[] b, int n) {
        for (int k = 0; k < n; k++) {
            a[k] *= b[k];
        }
    }

    @Override
    public void addInPlace(float[] a, float[] b, int n) {
        for (int k = 0; k < n; k++) {
            a[k] += b[k];
        }
    }

    @Override
    public void columnProduct(float[][] rowsT, int m, int k, float[] x, float[] acc) {
        Arrays.fill(acc, 0, m, 0f);
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
    public void columnProducts(float[][] rowsT, int m, int k, float[] x, int n, float[][] acc) {
        if (n == 1) { // one column: its own loop
            columnProduct(rowsT, m, k, x, acc[0]);
            return;
        }
        for (int c = 0; c < n; c++) {
            Arrays.fill(acc[c], 0, m, 0f);
        }
        int kk = 0;
        for (; kk + 3 < k; kk += 4) {
            float[] w0 = rowsT[kk];
            float[] w1 = rowsT[kk + 1];
            float[] w2 = rowsT[kk + 2];
            float[] w3 = rowsT[kk + 3];
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
    private static void addFourRows(float[] acc, float[] w0, float[] w1, float[] w2, float[] w3, float x0, float x1,
                                    float x2, float x3, int m) {
        for (int i = 0; i < m; i++) {
            acc[i] = Math.fma(w3[i], x3, Math.fma(w2[i], x2, Math.fma(w1[i], x1, Math.fma(w0[i], x0, acc[i]))));
        }
    }

    private static void addRow(float[] acc, float[] w, float x, int m) {
        for (int i = 0; i < m; i++) {
            acc[i] = Math.fma(w[i], x, acc[i]);
        }
    }

    @Override
    public void addSlice(float[] target, float[] source, int offset, int n) {
        for (int i = 0; i < n; i++) {
            target[i] += source[offset + i];
        }
    }

    @Override
    public void addColumns(float[] target, float[][] sources, int offset, int rows, int n) {
        if (n == 1) { // one column: the contiguous loop, which C2 vectorises
            addSlice(target, sources[0], offset, rows);
            return;
        }
        for (int c = 0; c < n; c++) {
            float[] source = sources[c];
            for (int j = 0; j < rows; j++) {
                target[j * n + c] += source[offset + j];
            }
        }
    }

    @Override
    public void addTanhGrad(float[] acc, float[] a, float[] b, float[] t, int n) {
        for (int k = 0; k < n; k++) {
            acc[k] += a[k] * b[k] * (1f - t[k] * t[k]);
        }
    }

    @Override
    public void tanhGrad(float[] out, float[] a, float[] b, float[] t, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = a[k] * b[k] * (1f - t[k] * t[k]);
        }
    }

    @Override
    public void sigmoidGrad(float[] out, float[] a, float[] b, float[] s, int n) {
        for (int k = 0; k < n; k++) {
            out[k] = a[k] * b[k] * s[k] * (1f - s[k]);
        }
    }
}
