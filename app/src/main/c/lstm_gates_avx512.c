/*
 * The native library of io.torchlstm4j.platform for CPUs with AVX-512 (with lstm_common.c): for NativeGates, the
 * float32 gate math of one LSTM step (forward and backward) on the kernel's native buffers and the recurrent product,
 * in AVX-512 intrinsics, 16 lanes at a time (masked for the last lanes of a row). lstm_gates_avx2.c is the same gate
 * math for CPUs with AVX2 only.
 *
 * Every expression is the same IEEE single-precision computation, in the same order, as
 * io.torchlstm4j.platform.FloatPrecision's Java loops: separate multiplies and adds (no fused multiply-adds; the build
 * also passes -ffp-contract=off), a true division, and a clamp by vminps/vmaxps that keeps NaN as Java's
 * Math.min/Math.max do. So the results are bit-identical to the Java path. (Plain C loops let gcc turn the clamp
 * into masked blends that evaluate the rational function twice: twice as slow.) Callers check every buffer's
 * bounds before calling; nothing here allocates.
 */
#include <immintrin.h>
#include <jni.h>
#include <stdint.h>

#define F(address) ((float *) (intptr_t) (address))

static inline __m512 set1(float value) {
    return _mm512_set1_ps(value);
}

/*
 * x clamped to [-7.9053111, 7.9053111]: vminps(C, x) returns x when x is NaN (its second operand), like
 * Math.min(x, C); and -0.0 stays -0.0, like Java.
 */
static inline __m512 clamp16(__m512 x) {
    return _mm512_max_ps(set1(-7.90531110763549805f), _mm512_min_ps(set1(7.90531110763549805f), x));
}

/* Eigen's rational tanh on an already clamped x (FloatPrecision.rational): x * P(x^2) / Q(x^2). */
static inline __m512 rational16(__m512 x) {
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_add_ps(_mm512_mul_ps(x2, set1(-2.76076847742355e-16f)), set1(2.00018790482477e-13f));
    p = _mm512_add_ps(_mm512_mul_ps(x2, p), set1(-8.60467152213735e-11f));
    p = _mm512_add_ps(_mm512_mul_ps(x2, p), set1(5.12229709037114e-08f));
    p = _mm512_add_ps(_mm512_mul_ps(x2, p), set1(1.48572235717979e-05f));
    p = _mm512_add_ps(_mm512_mul_ps(x2, p), set1(6.37261928875436e-04f));
    p = _mm512_add_ps(_mm512_mul_ps(x2, p), set1(4.89352455891786e-03f));
    __m512 q = _mm512_add_ps(_mm512_mul_ps(x2, set1(1.19825839466702e-06f)), set1(1.18534705686654e-04f));
    q = _mm512_add_ps(_mm512_mul_ps(x2, q), set1(2.26843463243900e-03f));
    q = _mm512_add_ps(_mm512_mul_ps(x2, q), set1(4.89352518554385e-03f));
    return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

static inline __m512 tanh16(__m512 x) {
    return rational16(clamp16(x));
}

/* sigmoid(x + bias) = 0.5 * tanh(0.5 * (x + bias)) + 0.5 (FloatPrecision.sigmoid). */
static inline __m512 sigmoid16(__m512 x, __m512 bias) {
    __m512 half = set1(0.5f);
    return _mm512_add_ps(_mm512_mul_ps(half, tanh16(_mm512_mul_ps(half, _mm512_add_ps(x, bias)))), half);
}

/* Lanes s .. s+15 of a row of n: all 16, or the ones below n. */
static inline __mmask16 lanes(int s, int n) {
    int left = n - s;
    return left >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << left) - 1u);
}

/* Masked loads and stores only for a row's last lanes: on this machine's Zen 5 they cost more than plain ones. */
static inline __m512 load(__mmask16 k, const float *row, int s) {
    return k == (__mmask16) 0xFFFF ? _mm512_loadu_ps(row + s) : _mm512_maskz_loadu_ps(k, row + s);
}

static inline void store(__mmask16 k, float *row, int s, __m512 value) {
    if (k == (__mmask16) 0xFFFF) {
        _mm512_storeu_ps(row + s, value);
    } else {
        _mm512_mask_storeu_ps(row + s, k, value);
    }
}

/* Asks for the cache lines of n floats (a prefetch never faults, whatever the address). */
static inline void prefetch_row(const float *row, int n) {
    for (int k = 0; k < n; k += 16) {
        __builtin_prefetch(row + k);
    }
    __builtin_prefetch(row + n - 1);
}

/*
 * The forward step's math on V vectors of 16 lanes from lane s of row j (masked by k when V == 1). The V vectors'
 * gate activations are computed first, then their cell states, then tanh(c): with V = 4 that gives the CPU 16 and
 * then 4 independent rational functions at a time, where one vector at a time left it waiting on each function's
 * chain of dependent multiplies and adds (slower per step; figures in docs/design.md).
 * Each lane's arithmetic is the same either way.
 */
static inline __attribute__((always_inline)) void forward_block(const int V, __mmask16 k, int s,
        float *gi, float *gf, float *gg, float *go, __m512 bi, __m512 bf, __m512 bg, __m512 bo,
        const float *cp, const float *hp, float *cj, float *hj, float *yj, const float *m) {
    __m512 i[4], f[4], g[4], o[4], cc[4], hh[4];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        int at = s + 16 * v;
        i[v] = sigmoid16(load(k, gi, at), bi);
        f[v] = sigmoid16(load(k, gf, at), bf);
        g[v] = tanh16(_mm512_add_ps(load(k, gg, at), bg));
        o[v] = sigmoid16(load(k, go, at), bo);
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        int at = s + 16 * v;
        cc[v] = _mm512_add_ps(_mm512_mul_ps(f[v], load(k, cp, at)), _mm512_mul_ps(i[v], g[v]));
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        hh[v] = _mm512_mul_ps(o[v], tanh16(cc[v]));
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        int at = s + 16 * v;
        store(k, gi, at, i[v]);
        store(k, gf, at, f[v]);
        store(k, gg, at, g[v]);
        store(k, go, at, o[v]);
        if (m != 0) {
            __m512 valid = load(k, m, at);
            __m512 cPrevious = load(k, cp, at);
            __m512 hPrevious = load(k, hp, at);
            cc[v] = _mm512_add_ps(cPrevious, _mm512_mul_ps(valid, _mm512_sub_ps(cc[v], cPrevious)));
            hh[v] = _mm512_add_ps(hPrevious, _mm512_mul_ps(valid, _mm512_sub_ps(hh[v], hPrevious)));
            store(k, yj, at, _mm512_mul_ps(hh[v], valid));
        } else {
            store(k, yj, at, hh[v]);
        }
        store(k, cj, at, cc[v]);
        store(k, hj, at, hh[v]);
    }
}

/*
 * Forward step: gates (4H rows of n, row stride ldGates; the step's pre-activations without bias) become the
 * activations i, f, g, o; c = f * cPrev + i * g; h = o * tanh(c). With a mask (n values, 1 or 0) c and h keep
 * cPrev and hPrev where it is 0 (FloatPrecision.keep), and y receives h * mask. c, h and y alias nothing.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_NativeGates_forwardStep(JNIEnv *env, jclass cls,
        jlong gates, jlong ldGates, jlong bias, jlong cPrev, jlong c, jlong hPrev, jlong h, jlong ldState,
        jlong y, jlong ldY, jlong mask, jint hidden, jint n) {
    const float *b = F(bias);
    const float *m = F(mask);
    for (long j = 0; j < hidden; j++) {
        float *gi = F(gates) + j * ldGates;
        float *gf = F(gates) + (hidden + j) * ldGates;
        float *gg = F(gates) + (2 * hidden + j) * ldGates;
        float *go = F(gates) + (3 * hidden + j) * ldGates;
        const float *cp = F(cPrev) + j * ldState;
        const float *hp = F(hPrev) + j * ldState;
        float *cj = F(c) + j * ldState;
        float *hj = F(h) + j * ldState;
        float *yj = F(y) + j * ldY;
        __m512 bi = set1(b[j]), bf = set1(b[hidden + j]), bg = set1(b[2 * hidden + j]), bo = set1(b[3 * hidden + j]);
        int s = 0;
        for (; s + 64 <= n; s += 64) {
            forward_block(4, (__mmask16) 0xFFFF, s, gi, gf, gg, go, bi, bf, bg, bo, cp, hp, cj, hj, yj, m);
        }
        for (; s < n; s += 16) {
            forward_block(1, lanes(s, n), s, gi, gf, gg, go, bi, bf, bg, bo, cp, hp, cj, hj, yj, m);
        }
    }
}

/*
 * Backward step: gates hold the step's activations i, f, g, o and become the gate gradients. dh = dy (+ carry,
 * the recurrent gradient from the later step, rows of n, when carry != 0) (* mask); dc (H rows of n, carried
 * between steps) becomes the gradient for the earlier step's cell state. When next != 0, the next step's columns
 * (next elements away) are prefetched: the forward wrote them long ago, and reading them one strided row at a time
 * cost a cache miss per row.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_NativeGates_backwardStep(JNIEnv *env, jclass cls,
        jlong gates, jlong ldGates, jlong dy, jlong ldY, jlong carry, jlong c, jlong cPrev, jlong ldState,
        jlong dc, jlong mask, jint hidden, jint n, jlong next) {
    const float *m = F(mask);
    if (next != 0) {
        for (long j = 0; j < 4 * hidden; j++) {
            prefetch_row(F(gates) + next + j * ldGates, n);
        }
        for (long j = 0; j < hidden; j++) {
            prefetch_row(F(dy) + next + j * ldY, n);
            prefetch_row(F(cPrev) + next + j * ldState, n);
        }
    }
    __m512 one = set1(1.0f);
    for (long j = 0; j < hidden; j++) {
        float *gi = F(gates) + j * ldGates;
        float *gf = F(gates) + (hidden + j) * ldGates;
        float *gg = F(gates) + (2 * hidden + j) * ldGates;
        float *go = F(gates) + (3 * hidden + j) * ldGates;
        const float *dyj = F(dy) + j * ldY;
        const float *cr = carry == 0 ? 0 : F(carry) + j * n;
        const float *cj = F(c) + j * ldState;
        const float *cp = F(cPrev) + j * ldState;
        float *dcj = F(dc) + j * n;
        for (int s = 0; s < n; s += 16) {
            __mmask16 k = lanes(s, n);
            __m512 dh = load(k, dyj, s);
            if (cr != 0) {
                dh = _mm512_add_ps(dh, load(k, cr, s));
            }
            __m512 valid = m != 0 ? load(k, m, s) : one;
            if (m != 0) {
                dh = _mm512_mul_ps(dh, valid);
            }
            __m512 i = load(k, gi, s), f = load(k, gf, s), g = load(k, gg, s), o = load(k, go, s);
            __m512 t = tanh16(load(k, cj, s));
            __m512 d = _mm512_add_ps(load(k, dcj, s),
                    _mm512_mul_ps(_mm512_mul_ps(dh, o), _mm512_sub_ps(one, _mm512_mul_ps(t, t))));
            if (m != 0) {
                d = _mm512_mul_ps(d, valid);
            }
            store(k, go, s, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dh, t), o), _mm512_sub_ps(one, o)));
            store(k, gi, s, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, g), i), _mm512_sub_ps(one, i)));
            store(k, gg, s, _mm512_mul_ps(_mm512_mul_ps(d, i), _mm512_sub_ps(one, _mm512_mul_ps(g, g))));
            store(k, gf, s, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(d, load(k, cp, s)), f), _mm512_sub_ps(one, f)));
            store(k, dcj, s, _mm512_mul_ps(d, f));
        }
    }
}

/*
 * The rows r .. r+R-1 and vectors from lane s of C += W H (R <= 4 rows, V <= 4 vectors of 16 lanes, the last one
 * masked by k): each element is a chain of fused multiply-adds over q = 0 .. K-1 in order, then added to C, which is
 * how OpenBLAS's SkylakeX kernels compute it (NativeGatesTest checks the bits).
 */
static inline __attribute__((always_inline)) void recurrent_block(const int R, const int V, __mmask16 k, int s,
        const float *w, long ldw, const float *h, long ldh, float *c, long ldc, int K, int accumulate) {
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            acc[i][v] = _mm512_setzero_ps();
        }
    }
    for (long q = 0; q < K; q++) {
        const float *hq = h + q * ldh + s;
        __m512 x[4];
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            x[v] = load(v == V - 1 ? k : (__mmask16) 0xFFFF, hq, 16 * v);
        }
#pragma GCC unroll 4
        for (int i = 0; i < R; i++) {
            __m512 b = set1(w[i * ldw + q]);
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) {
                acc[i][v] = _mm512_fmadd_ps(b, x[v], acc[i][v]);
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; i++) {
        float *ci = c + i * ldc + s;
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) {
            __mmask16 lanesOf = v == V - 1 ? k : (__mmask16) 0xFFFF;
            store(lanesOf, ci, 16 * v, accumulate ? _mm512_add_ps(acc[i][v], load(lanesOf, ci, 16 * v)) : acc[i][v]);
        }
    }
}

/* R rows of C += W H over all n columns: blocks of 64 lanes, then of 16, the last masked. */
static inline __attribute__((always_inline)) void recurrent_rows(const int R, const float *w, long ldw,
        const float *h, long ldh, float *c, long ldc, int n, int K, int accumulate) {
    int s = 0;
    for (; s + 64 <= n; s += 64) {
        recurrent_block(R, 4, (__mmask16) 0xFFFF, s, w, ldw, h, ldh, c, ldc, K, accumulate);
    }
    for (; s < n; s += 16) {
        recurrent_block(R, 1, lanes(s, n), s, w, ldw, h, ldh, c, ldc, K, accumulate);
    }
}

/*
 * A step's recurrent product, C (m x n, row stride ldc) = W (m x K, row-major, ldw) times H (K x n, row stride ldh),
 * plus C when accumulate (the forward's W_hh h into the gate columns; the backward's W_hh^T times the gate gradients
 * into a scratch buffer), without OpenBLAS's packing of W and H on every call, and with the bits of OpenBLAS's
 * SkylakeX kernels (figures in docs/design.md).
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_NativeGates_recurrent(JNIEnv *env, jclass cls, jlong w, jlong ldw,
        jlong h, jlong ldh, jlong c, jlong ldc, jint m, jint n, jint K, jboolean accumulate) {
    int r = 0;
    for (; r + 4 <= m; r += 4) {
        recurrent_rows(4, F(w) + r * ldw, ldw, F(h), ldh, F(c) + r * ldc, ldc, n, K, accumulate);
    }
    for (; r < m; r++) {
        recurrent_rows(1, F(w) + r * ldw, ldw, F(h), ldh, F(c) + r * ldc, ldc, n, K, accumulate);
    }
}
