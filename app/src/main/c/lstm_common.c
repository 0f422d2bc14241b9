/*
 * The native library's functions that use no vector instructions, built into both of its variants
 * (lstm_gates_avx512.c, lstm_gates_avx2.c): for NativeGates, the strided copy of the kernel's input; for NativeLibrary,
 * the allocator of the fast engine's result memory (allocate/release, see NativeLibrary.onOwnedMemory). Callers check
 * every buffer's bounds before calling.
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
