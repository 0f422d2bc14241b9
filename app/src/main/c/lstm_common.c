/*
 * The native library's functions that use no vector instructions of their own, built into both of its variants
 * (lstm_gates_avx512.c, lstm_gates_avx2.c): for NativeGates, the strided copy of the kernel's input and the
 * pseudo-random operands of its checks; for NativeLibrary, the allocator of the fast engine's result memory
 * (allocate/release, see NativeLibrary.onOwnedMemory); for PackedGemm, OpenBLAS's kernel and packing routines driven
 * with W packed once. Callers check every buffer's bounds before calling; only allocate allocates.
 */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define F(address) ((float *) (intptr_t) (address))

/*
 * dst[(a * B + b) * C + c] = src[a * sa + b * sb + c * sc] for a < A, b < B, c < C (strides in elements): the input
 * of the kernel, [H_in, L, N], from the caller's tensor read through its strides, whatever its axis order.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_NativeGates_copy(JNIEnv *env, jclass cls, jlong src, jlong sa,
        jlong sb, jlong sc, jlong dst, jint A, jint B, jint C) {
    const float *s = F(src);
    float *d = F(dst);
    for (long a = 0; a < A; a++) {
        for (long b = 0; b < B; b++) {
            const float *in = s + a * sa + b * sb;
            float *out = d + (a * B + b) * C;
            if (sc == 1) {
                memcpy(out, in, (size_t) C * sizeof(float));
            } else {
                for (long c = 0; c < C; c++) {
                    out[c] = in[c * sc];
                }
            }
        }
    }
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/*
 * bytes of fresh memory, 64-byte aligned, its whole pages already faulted in, writable, by one system call
 * (madvise(MADV_POPULATE_WRITE), Linux 5.14+) rather than by a page fault at the first write to each page; where
 * the kernel refuses that (older kernels), the pages are faulted in by those writes as usual. Not zeroed. Returns the
 * address, or 0 when malloc fails. Freed by release.
 */
JNIEXPORT jlong JNICALL Java_io_torchlstm4j_platform_NativeLibrary_allocate(JNIEnv *env, jclass cls, jlong bytes) {
    void *memory = NULL;
    if (bytes <= 0 || posix_memalign(&memory, 64, (size_t) bytes) != 0) {
        return 0;
    }
    uintptr_t page = 4096;
    uintptr_t first = ((uintptr_t) memory + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t) memory + (uintptr_t) bytes) & ~(page - 1);
    if (end > first) {
        madvise((void *) first, end - first, MADV_POPULATE_WRITE);
    }
    return (jlong) (intptr_t) memory;
}

JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_NativeLibrary_release(JNIEnv *env, jclass cls, jlong address) {
    free((void *) (intptr_t) address);
}

/*
 * n pseudo-random floats from seed (xorshift64): random sign, mantissa and binary exponent in [-4, 4], so that the
 * sums of a product are rounded in many places; for NativeGates' check of the native product against OpenBLAS,
 * where Java's Random would run cold at start-up.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_NativeGates_fillRandom(JNIEnv *env, jclass cls, jlong address,
        jlong n, jlong seed) {
    uint32_t *out = (uint32_t *) (intptr_t) address;
    uint64_t x = (uint64_t) seed * 0x9E3779B97F4A7C15ull + 1;
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t sign = (uint32_t) (x >> 63) << 31;
        uint32_t exponent = (uint32_t) (127 - 4 + (x >> 23) % 9) << 23;
        out[i] = sign | exponent | (uint32_t) (x & 0x7FFFFF);
    }
}

/*
 * OpenBLAS's own single-threaded SGEMM, C^T += H^T W^T in its column-major terms (our row-major C (m x n) += W (m x k)
 * H (k x n)), driven as its level-3 driver (driver/level3/level3.c, gemm_nn) drives it, but with W's packing done once
 * (packWeights) for many products: the same kernel, packing routines and blocking, so the same bits. kernel, itcopy
 * and oncopy are the running core's functions from OpenBLAS's table, p, q, unrollM and unrollN its blocking; wide
 * is 1 where the driver's last column chunk may take twice unrollN columns (its versions differ there), else 0.
 */
typedef int (*gemm_kernel_t)(long m, long n, long k, float alpha, float *a, float *b, float *c, long ldc);
typedef int (*gemm_copy_t)(long m, long n, float *a, long lda, float *b);

/* The driver's K block from ls (its min_l). */
static long k_block(long k, long ls, long q, long unrollM) {
    long minL = k - ls;
    if (minL >= q * 2) {
        return q;
    }
    if (minL > q) {
        minL = ((minL / 2 + unrollM - 1) / unrollM) * unrollM;
    }
    return minL;
}

/* The driver's M block for the rest (its min_i). */
static long m_block(long rest, long p, long unrollM) {
    if (rest >= p * 2) {
        return p;
    }
    if (rest > p) {
        return ((rest / 2 + unrollM - 1) / unrollM) * unrollM;
    }
    return rest;
}

/* The driver's column chunk for the rest (its min_jj). */
static long n_chunk(long rest, long unrollN, int wide) {
    if (rest >= 3 * unrollN) {
        return 3 * unrollN;
    }
    if (wide && rest >= 2 * unrollN) {
        return 2 * unrollN;
    }
    if (rest > unrollN) {
        return unrollN;
    }
    return rest;
}

/* W (m x k row-major, ldw) packed as the driver packs its B, K block after K block, into packed (m * k floats). */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_PackedGemm_pack(JNIEnv *env, jclass cls, jlong oncopy, jlong w,
        jlong ldw, jint m, jint k, jlong q, jlong unrollM, jlong packed) {
    gemm_copy_t copy = (gemm_copy_t) (intptr_t) oncopy;
    float *out = F(packed);
    for (long ls = 0, minL; ls < k; ls += minL) {
        minL = k_block(k, ls, q, unrollM);
        copy(minL, m, F(w) + ls, ldw, out);
        out += minL * m;
    }
}

/*
 * C (m x n row-major, ldc) = W H (+ C when accumulate), W packed by pack, H (k x n row-major, ldh); sa is scratch for
 * the driver's packed A (at least min(k, 2q) * (min(n, 2p) + unrollM) floats). Without accumulate C is zeroed first,
 * as the driver's beta = 0 does.
 */
JNIEXPORT void JNICALL Java_io_torchlstm4j_platform_PackedGemm_multiply(JNIEnv *env, jclass cls, jlong kernel,
        jlong itcopy, jlong packed, jlong h, jlong ldh, jlong c, jlong ldc, jint m, jint n, jint k, jlong p, jlong q,
        jlong unrollM, jlong unrollN, jint wide, jlong sa, jboolean accumulate) {
    gemm_kernel_t run = (gemm_kernel_t) (intptr_t) kernel;
    gemm_copy_t copy = (gemm_copy_t) (intptr_t) itcopy;
    float *C = F(c);
    if (!accumulate) {
        for (long i = 0; i < m; i++) {
            memset(C + i * ldc, 0, (size_t) n * sizeof(float));
        }
    }
    float *b = F(packed);
    for (long ls = 0, minL; ls < k; ls += minL) {
        minL = k_block(k, ls, q, unrollM);
        long minI = m_block(n, p, unrollM);
        copy(minL, minI, F(h) + ls * ldh, ldh, F(sa));
        for (long jjs = 0, minJJ; jjs < m; jjs += minJJ) {
            minJJ = n_chunk(m - jjs, unrollN, wide);
            run(minI, minJJ, minL, 1.0f, F(sa), b + minL * jjs, C + jjs * ldc, ldc);
        }
        for (long is = minI; is < n; is += minI) {
            minI = m_block(n - is, p, unrollM);
            copy(minL, minI, F(h) + is + ls * ldh, ldh, F(sa));
            run(minI, m, minL, 1.0f, F(sa), b, C + is, ldc);
        }
        b += minL * m;
    }
}
