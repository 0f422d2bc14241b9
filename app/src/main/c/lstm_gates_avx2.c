/*
 * The native library of io.torchlstm4j.platform for CPUs with AVX2 and FMA but without AVX-512 (with lstm_common.c):
 * for NativeGates, the float32 gate math of one LSTM step (forward and backward) on the kernel's native buffers, in
 * AVX2 intrinsics, 8 lanes at a time (masked loads and stores for the last lanes of a row). It is
 * lstm_gates_avx512.c's gate math at half the width, and a recurrent product in the summation order of OpenBLAS's
 * AVX2 (Zen) kernels, where that file's follows its SkylakeX kernels.
 *
 * In the gate math every expression is the same IEEE single-precision computation, in the same order, as
 * io.torchlstm4j.platform.FloatPrecision's Java loops: separate multiplies and adds (no fused multiply-adds: the build
 * passes -ffp-contract=off, and only the recurrent product calls FMA instructions, as OpenBLAS does), a true
 * division, and a clamp by vminps/vmaxps that keeps NaN as Java's Math.min/Math.max do (the same operand order as the
 * AVX-512 code). So the results are bit-identical to the Java path; NativeLibrary checks that when it loads the
 * library. Callers check every buffer's bounds before calling; nothing here allocates.
 */
#include <immintrin.h>
#include <jni.h>
#include <stdint.h>

#define F(address) ((float *) (intptr_t) (address))

/* Lanes per vector. */
#define W 8

static inline __m256 set1(float value) {
    return _mm256_set1_ps(value);
}

/* x clamped to [-7.9053111, 7.9053111], NaN kept and -0.0 kept, as in lstm_gates_avx512.c's clamp16. */
static inline __m256 clamp8(__m256 x) {
    return _mm256_max_ps(set1(-7.90531110763549805f), _mm256_min_ps(set1(7.90531110763549805f), x));
}

/* Eigen's rational tanh on an already clamped x (FloatPrecision.rational): x * P(x^2) / Q(x^2). */
static inline __m256 rational8(__m256 x) {
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 p = _mm256_add_ps(_mm256_mul_ps(x2, set1(-2.76076847742355e-16f)), set1(2.00018790482477e-13f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), set1(-8.60467152213735e-11f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), set1(5.12229709037114e-08f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), set1(1.48572235717979e-05f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), set1(6.37261928875436e-04f));
    p = _mm256_add_ps(_mm256_mul_ps(x2, p), set1(4.89352455891786e-03f));
    __m256 q = _mm256_add_ps(_mm256_mul_ps(x2, set1(1.19825839466702e-06f)), set1(1.18534705686654e-04f));
    q = _mm256_add_ps(_mm256_mul_ps(x2, q), set1(2.26843463243900e-03f));
    q = _mm256_add_ps(_mm256_mul_ps(x2, q), set1(4.89352518554385e-03f));
    return _mm256_div_ps(_mm256_mul_ps(x, p), q);
}

static inline __m256 tanh8(__m256 x) {
    return rational8(clamp8(x));
}

/* sigmoid(x + bias) = 0.5 * tanh(0.5 * (x + bias)) + 0.5 (FloatPrecision.sigmoid). */
static inline __m256 sigmoid8(__m256 x, __m256 bias) {
    __m256 half = set1(0.5f);
    return _mm256_add_ps(_mm256_mul_ps(half, tanh8(_mm256_mul_ps(half, _mm256_add_ps(x, bias)))), half);
}

/*
 * The lanes of a row from lane s: left = n - s of them are valid, all W when left >= W. A partial vector is read and
 * written with masked loads and stores (the masked-off lanes read as 0 and are never written); whole ones with plain
 * loads and stores.
 */
static inline __m256i tail(int left) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256 load(int left, const float *row, int s) {
    return left >= W ? _mm256_loadu_ps(row + s) : _mm256_maskload_ps(row + s, tail(left));
}

static inline void store(int left, float *row, int s, __m256 value) {
    if (left >= W) {
        _mm256_storeu_ps(row + s, value);
    } else {
        _mm256_maskstore_ps(row + s, tail(left), value);
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
 * The forward step's math on V vectors of W lanes from lane s of row j (left valid lanes from s when V == 1), as
 * lstm_gates_avx512.c's forward_block: the V vectors' gate activations first, then their cell states, then tanh(c),
 * so that the CPU has several independent rational functions in flight. Each lane's arithmetic is the same either way.
 */
static inline __attribute__((always_inline)) void forward_block(const int V, int left, int s,
        float *gi, float *gf, float *gg, float *go, __m256 bi, __m256 bf, __m256 bg, __m256 bo,
        const float *cp, const float *hp, float *cj, float *hj, float *yj, const float *m) {
    __m256 i[4], f[4], g[4], o[4], cc[4], hh[4];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        int at = s + W * v;
        i[v] = sigmoid8(load(left, gi, at), bi);
        f[v] = sigmoid8(load(left, gf, at), bf);
        g[v] = tanh8(_mm256_add_ps(load(left, gg, at), bg));
        o[v] = sigmoid8(load(left, go, at), bo);
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        int at = s + W * v;
        cc[v] = _mm256_add_ps(_mm256_mul_ps(f[v], load(left, cp, at)), _mm256_mul_ps(i[v], g[v]));
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        hh[v] = _mm256_mul_ps(o[v], tanh8(cc[v]));
    }
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
        int at = s + W * v;
        store(left, gi, at, i[v]);
        store(left, gf, at, f[v]);
        store(left, gg, at, g[v]);
        store(left, go, at, o[v]);
        if (m != 0) {
            __m256 valid = load(left, m, at);
            __m256 cPrevious = load(left, cp, at);
            __m256 hPrevious = load(left, hp, at);
            cc[v] = _mm256_add_ps(cPrevious, _mm256_mul_ps(valid, _mm256_sub_ps(cc[v], cPrevious)));
            hh[v] = _mm256_add_ps(hPrevious, _mm256_mul_ps(valid, _mm256_sub_ps(hh[v], hPrevious)));
            store(left, yj, at, _mm256_mul_ps(hh[v], valid));
        } else {
            store(left, yj, at, hh[v]);
        }
        store(left, cj, at, cc[v]);
        store(left, hj, at, hh[v]);
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
        __m256 bi = set1(b[j]), bf = set1(b[hidden + j]), bg = set1(b[2 * hidden + j]), bo = set1(b[3 * hidden + j]);
        int s = 0;
        for (; s + 2 * W <= n; s += 2 * W) {
            forward_block(2, W, s, gi, gf, gg, go, bi, bf, bg, bo, cp, hp, cj, hj, yj, m);
        }
        for (; s < n; s += W) {
            forward_block(1, n - s, s, gi, gf, gg, go, bi, bf, bg, bo, cp, hp, cj, hj, yj, m);
        }
    }
}

/*
 * Backward step: gates hold the step's activations i, f, g, o and become the gate gradients. dh = dy (+ carry,
 * the recurrent gradient from the later step, rows of n, when carry != 0) (* mask); dc (H rows of n, carried
 * between steps) becomes the gradient for the earlier step's cell state. When next != 0, the next step's columns
 * (next elements away) are prefetched: the forward wrote them long ago.
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
    __m256 one = set1(1.0f);
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
        for (int s = 0; s < n; s += W) {
            int left = n - s;
            __m256 dh = load(left, dyj, s);
            if (cr != 0) {
                dh = _mm256_add_ps(dh, load(left, cr, s));
            }
            __m256 valid = m != 0 ? load(left, m, s) : one;
            if (m != 0) {
                dh = _mm256_mul_ps(dh, valid);
            }
            __m256 i = load(left, gi, s), f = load(left, gf, s), g = load(left, gg, s), o = load(left, go, s);
            __m256 t = tanh8(load(left, cj, s));
            __m256 d = _mm256_add_ps(load(left, dcj, s),
                    _mm256_mul_ps(_mm256_mul_ps(dh, o), _mm256_sub_ps(one, _mm256_mul_ps(t, t))));
            if (m != 0) {
                d = _mm256_mul_ps(d, valid);
            }
            store(left, go, s, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dh, t), o), _mm256_sub_ps(one, o)));
            store(left, gi, s, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(d, g), i), _mm256_sub_ps(one, i)));
            store(left, gg, s, _mm256_mul_ps(_mm256_mul_ps(d, i), _mm256_sub_ps(one, _mm256_mul_ps(g, g))));
            store(left, gf, s, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(d, load(left, cp, s)), f),
                    _mm256_sub_ps(one, f)));
            store(left, dcj, s, _mm256_mul_ps(d, f));
        }
    }
}


/*
 * The recurrent product with OpenBLAS's bits on its AVX2 (Zen) kernels: OpenBLAS 0.3.19 computes C^T = H^T W^T, so
 * its M is our n (the batch) and its N our m (the output rows). Each element of C is one chain of fused
 * multiply-adds over q = 0 .. K-1 in order, from zero, except where the kernel splits the sum in two: K's whole
 * blocks of 8 go alternately to two chains (even q to the first, odd q to the second), the last K mod 8 terms to
 * the first, and the result is second + first. With m = 256 and n = 32, 64 or 128 (K = 60, 64), it splits the sum
 * for output rows 0-5 of every 12 in the lanes 0-7 and n-8 .. n-1, and for every lane of the rows after the last
 * whole 12 (measured on random operands: every element is one of the two). This code does exactly that. Other
 * shapes follow other rules (with n = 24 the lanes 16-23 of every row are split), which this code does not follow:
 * NativeGates checks each shape's bits against OpenBLAS before it uses this, and keeps OpenBLAS where they differ.
 * Then the sum is added to C (plus zero when C is not accumulated, as OpenBLAS adds the sum to C after zeroing it).
 */
static inline __attribute__((always_inline)) void product_block(const int R, const int V, const int split, int s,
        const float *w, long ldw, const float *h, long ldh, float *c, long ldc, int K, int accumulate) {
    __m256 first[6][2], second[6][2];
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            first[i][v] = _mm256_setzero_ps();
            second[i][v] = _mm256_setzero_ps();
        }
    }
    long q = 0;
    if (split) {
        for (long whole = (long) K & ~7L; q < whole; q += 2) {
            const float *h0 = h + q * ldh + s;
            const float *h1 = h0 + ldh;
            __m256 x0[2], x1[2];
#pragma GCC unroll 2
            for (int v = 0; v < V; v++) {
                x0[v] = _mm256_loadu_ps(h0 + W * v);
                x1[v] = _mm256_loadu_ps(h1 + W * v);
            }
#pragma GCC unroll 6
            for (int i = 0; i < R; i++) {
                __m256 b0 = _mm256_broadcast_ss(w + i * ldw + q);
                __m256 b1 = _mm256_broadcast_ss(w + i * ldw + q + 1);
#pragma GCC unroll 2
                for (int v = 0; v < V; v++) {
                    first[i][v] = _mm256_fmadd_ps(b0, x0[v], first[i][v]);
                    second[i][v] = _mm256_fmadd_ps(b1, x1[v], second[i][v]);
                }
            }
        }
    }
    for (; q < K; q++) {
        const float *hq = h + q * ldh + s;
        __m256 x[2];
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            x[v] = _mm256_loadu_ps(hq + W * v);
        }
#pragma GCC unroll 6
        for (int i = 0; i < R; i++) {
            __m256 b = _mm256_broadcast_ss(w + i * ldw + q);
#pragma GCC unroll 2
            for (int v = 0; v < V; v++) {
                first[i][v] = _mm256_fmadd_ps(b, x[v], first[i][v]);
            }
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        float *ci = c + i * ldc + s;
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            __m256 sum = split ? _mm256_add_ps(second[i][v], first[i][v]) : first[i][v];
            __m256 to = accumulate ? _mm256_loadu_ps(ci + W * v) : _mm256_setzero_ps();
            _mm256_storeu_ps(ci + W * v, _mm256_add_ps(sum, to));
        }
    }
}

/* R rows from row r: lanes 0-7 and n-8 .. n-1 split when edges, else chained; the lanes between, chained. */
static inline __attribute__((always_inline)) void product_rows(const int R, const int edges, const float *w,
        long ldw, const float *h, long ldh, float *c, long ldc, int n, int K, int accumulate) {
    if (!edges) {
        // every lane one chain: two vectors per block throughout (a block of one vector keeps only six chains in
        // flight, which waits on their latency)
        int s = 0;
        for (; s + 2 * W <= n; s += 2 * W) {
            product_block(R, 2, 0, s, w, ldw, h, ldh, c, ldc, K, accumulate);
        }
        if (s < n) {
            product_block(R, 1, 0, s, w, ldw, h, ldh, c, ldc, K, accumulate);
        }
        return;
    }
    product_block(R, 1, edges, 0, w, ldw, h, ldh, c, ldc, K, accumulate);
    int s = W;
    for (; s + 2 * W <= n - W; s += 2 * W) {
        product_block(R, 2, 0, s, w, ldw, h, ldh, c, ldc, K, accumulate);
    }
    for (; s < n - W; s += W) {
        product_block(R, 1, 0, s, w, ldw, h, ldh, c, ldc, K, accumulate);
    }
    product_block(R, 1, edges, n - W, w, ldw, h, ldh, c, ldc, K, accumulate);
}

/* R rows from row r, every lane split (the rows after OpenBLAS's last whole block of 12). */
static inline __attribute__((always_inline)) void product_split_rows(const int R, const float *w, long ldw,
        const float *h, long ldh, float *c, long ldc, int n, int K, int accumulate) {
    for (int s = 0; s < n; s += W) {
        product_block(R, 1, 1, s, w, ldw, h, ldh, c, ldc, K, accumulate);
    }
}

/*
 * A step's recurrent product, C (m x n, row stride ldc) = W (m x K, row-major, ldw) times H (K x n, row stride ldh),
 * plus C when accumulate, without OpenBLAS's packing of W and H on every call; n a multiple of 8, at least 16.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_NativeGates_recurrent(JNIEnv *env, jclass cls, jlong w, jlong ldw,
        jlong h, jlong ldh, jlong c, jlong ldc, jint m, jint n, jint K, jboolean accumulate) {
    const float *wf = F(w);
    const float *hf = F(h);
    float *cf = F(c);
    int whole = m / 12 * 12;
    int r = 0;
    for (; r < whole; r += 12) {
        product_rows(6, 1, wf + r * ldw, ldw, hf, ldh, cf + r * ldc, ldc, n, K, accumulate);
        product_rows(6, 0, wf + (r + 6) * ldw, ldw, hf, ldh, cf + (r + 6) * ldc, ldc, n, K, accumulate);
    }
    for (; r + 6 <= m; r += 6) {
        product_split_rows(6, wf + r * ldw, ldw, hf, ldh, cf + r * ldc, ldc, n, K, accumulate);
    }
    // the rows after the last whole 6 in fours, then twos, then ones: a block of one row keeps only two chains of
    // fused multiply-adds in flight, which waits on their latency (the 4 rows left of m = 64 or 256;
    // docs/performance.md)
    for (; r + 4 <= m; r += 4) {
        product_split_rows(4, wf + r * ldw, ldw, hf, ldh, cf + r * ldc, ldc, n, K, accumulate);
    }
    for (; r + 2 <= m; r += 2) {
        product_split_rows(2, wf + r * ldw, ldw, hf, ldh, cf + r * ldc, ldc, n, K, accumulate);
    }
    for (; r < m; r++) {
        product_split_rows(1, wf + r * ldw, ldw, hf, ldh, cf + r * ldc, ldc, n, K, accumulate);
    }
}
