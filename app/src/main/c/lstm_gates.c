/*
 * The fast engine's float32 gate math, one LSTM step at a time, on the kernel's native buffers (see
 * io.torchlstm4j.fast.NativeGates). Every expression is the same IEEE single-precision computation, in the same
 * order, as io.torchlstm4j.fast.FloatPrecision's Java loops: built without -ffast-math and with -ffp-contract=off
 * (no fused multiply-adds), so the results are bit-identical to the Java path. Callers check every buffer's bounds
 * before calling; nothing here allocates.
 */
#include <jni.h>
#include <stdint.h>

#define CLAMP 7.90531110763549805f

/* x clamped to [-CLAMP, CLAMP]; NaN stays NaN, as Java's Math.min/Math.max keep it. */
static inline float clampf(float x) {
    x = x > CLAMP ? CLAMP : x;
    return x < -CLAMP ? -CLAMP : x;
}

/* Eigen's rational tanh on an already clamped x (FloatPrecision.rational). */
static inline float rational(float x) {
    float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = x2 * p + -8.60467152213735e-11f;
    p = x2 * p + 5.12229709037114e-08f;
    p = x2 * p + 1.48572235717979e-05f;
    p = x2 * p + 6.37261928875436e-04f;
    p = x2 * p + 4.89352455891786e-03f;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = x2 * q + 2.26843463243900e-03f;
    q = x2 * q + 4.89352518554385e-03f;
    return x * p / q;
}

static inline float sigmoid_of(float x, float bias) {
    return 0.5f * rational(clampf(0.5f * (x + bias))) + 0.5f;
}

#define F(address) ((float *) (intptr_t) (address))

/* Asks for the cache lines of n floats (a prefetch never faults, whatever the address). */
static inline void prefetch_row(const float *row, int n) {
    for (int k = 0; k < n; k += 16) {
        __builtin_prefetch(row + k);
    }
    __builtin_prefetch(row + n - 1);
}

/*
 * One hidden unit's row of a forward step (see forwardStep); inlined into one loop with and one without the mask,
 * each a plain loop the compiler vectorises.
 */
static inline __attribute__((always_inline)) void forward_row(float *restrict gi, float *restrict gf,
        float *restrict gg, float *restrict go, float bi, float bf, float bg, float bo, const float *restrict cp,
        const float *restrict hp, float *restrict c, float *restrict h, float *restrict y, const float *restrict m,
        int n, const int withMask) {
    for (int s = 0; s < n; s++) {
        float i = sigmoid_of(gi[s], bi);
        float f = sigmoid_of(gf[s], bf);
        float g = rational(clampf(gg[s] + bg));
        float o = sigmoid_of(go[s], bo);
        float cc = f * cp[s] + i * g;
        float hh = o * rational(clampf(cc));
        gi[s] = i;
        gf[s] = f;
        gg[s] = g;
        go[s] = o;
        if (withMask) {
            /* FloatPrecision.keep and multiply: the state is kept where the step is padding. */
            cc = cp[s] + m[s] * (cc - cp[s]);
            hh = hp[s] + m[s] * (hh - hp[s]);
        }
        c[s] = cc;
        h[s] = hh;
        y[s] = withMask ? hh * m[s] : hh;
    }
}

/*
 * Forward step: gates (4H rows of n, row stride ldGates; the step's pre-activations without bias) become the
 * activations i, f, g, o; c = f * cPrev + i * g; h = o * tanh(c). With a mask (n values, 1 or 0) c and h keep
 * cPrev and hPrev where it is 0, and y receives h * mask. c, h and y alias nothing.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_fast_NativeGates_forwardStep(JNIEnv *env, jclass cls,
        jlong gates, jlong ldGates, jlong bias, jlong cPrev, jlong c, jlong hPrev, jlong h, jlong ldState,
        jlong y, jlong ldY, jlong mask, jint hidden, jint n) {
    const float *b = F(bias);
    float *g = F(gates);
    const float *m = F(mask);
    for (long j = 0; j < hidden; j++) {
        float *gi = g + j * ldGates;
        float *gf = g + (hidden + j) * ldGates;
        float *gg = g + (2 * hidden + j) * ldGates;
        float *go = g + (3 * hidden + j) * ldGates;
        const float *cp = F(cPrev) + j * ldState;
        const float *hp = F(hPrev) + j * ldState;
        float *cj = F(c) + j * ldState;
        float *hj = F(h) + j * ldState;
        float *yj = F(y) + j * ldY;
        if (m != 0) {
            forward_row(gi, gf, gg, go, b[j], b[hidden + j], b[2 * hidden + j], b[3 * hidden + j], cp, hp, cj, hj,
                    yj, m, n, 1);
        } else {
            forward_row(gi, gf, gg, go, b[j], b[hidden + j], b[2 * hidden + j], b[3 * hidden + j], cp, hp, cj, hj,
                    yj, m, n, 0);
        }
    }
}

/*
 * One hidden unit's row of a backward step (see backwardStep). Inlined into one loop per combination of carry and
 * mask present, so that each is a plain loop the compiler vectorises.
 */
static inline __attribute__((always_inline)) void backward_row(float *restrict gi, float *restrict gf,
        float *restrict gg, float *restrict go, const float *restrict dy, const float *restrict carry,
        const float *restrict c, const float *restrict cp, float *restrict dc, const float *restrict m, int n,
        const int withCarry, const int withMask) {
    for (int s = 0; s < n; s++) {
        float dh = dy[s];
        if (withCarry) {
            dh = dh + carry[s];
        }
        if (withMask) {
            dh = dh * m[s];
        }
        float i = gi[s], f = gf[s], g = gg[s], o = go[s];
        float t = rational(clampf(c[s]));
        float d = dc[s] + dh * o * (1.0f - t * t);
        if (withMask) {
            d = d * m[s];
        }
        go[s] = dh * t * o * (1.0f - o);
        gi[s] = d * g * i * (1.0f - i);
        gg[s] = d * i * (1.0f - g * g);
        gf[s] = d * cp[s] * f * (1.0f - f);
        dc[s] = d * f;
    }
}

#define BACKWARD_ROW(withCarry, withMask) \
    backward_row(gi, gf, gg, go, dyj, cr, cj, cpj, dcj, m, n, withCarry, withMask)

/*
 * Backward step: gates hold the step's activations i, f, g, o and become the gate gradients. dh = dy (+ carry,
 * the recurrent gradient from the later step, rows of n, when carry != 0) (* mask); dc (H rows of n, carried
 * between steps) becomes the gradient for the earlier step's cell state.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_fast_NativeGates_backwardStep(JNIEnv *env, jclass cls,
        jlong gates, jlong ldGates, jlong dy, jlong ldY, jlong carry, jlong c, jlong cPrev, jlong ldState,
        jlong dc, jlong mask, jint hidden, jint n, jlong next) {
    float *g = F(gates);
    const float *m = F(mask);
    if (next != 0) {
        /* The next step's gate, dy and earlier-cell columns (next elements away), written long ago in the forward:
           fetched now, while the caller's recurrent GEMM runs, instead of one strided row at a time in its loop. */
        for (long j = 0; j < 4 * hidden; j++) {
            prefetch_row(g + next + j * ldGates, n);
        }
        for (long j = 0; j < hidden; j++) {
            prefetch_row(F(dy) + next + j * ldY, n);
            prefetch_row(F(cPrev) + next + j * ldState, n);
        }
    }
    for (long j = 0; j < hidden; j++) {
        float *gi = g + j * ldGates;
        float *gf = g + (hidden + j) * ldGates;
        float *gg = g + (2 * hidden + j) * ldGates;
        float *go = g + (3 * hidden + j) * ldGates;
        const float *dyj = F(dy) + j * ldY;
        const float *cr = carry == 0 ? 0 : F(carry) + j * n;
        const float *cj = F(c) + j * ldState;
        const float *cpj = F(cPrev) + j * ldState;
        float *dcj = F(dc) + j * n;
        if (cr != 0 && m != 0) {
            BACKWARD_ROW(1, 1);
        } else if (cr != 0) {
            BACKWARD_ROW(1, 0);
        } else if (m != 0) {
            BACKWARD_ROW(0, 1);
        } else {
            BACKWARD_ROW(0, 0);
        }
    }
}
