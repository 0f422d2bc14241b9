/**
 * What the library needs from the machine: the BLAS binding with the Java gate math
 * ({@link io.torchlstm4j.platform.Precision}), the native library ({@link io.torchlstm4j.platform.NativeLibrary},
 * {@link io.torchlstm4j.platform.NativeGates}), off-heap memory ({@link io.torchlstm4j.platform.OffHeap},
 * {@link io.torchlstm4j.platform.ReusedShape}), the OpenBLAS kernel switch and thread policy
 * ({@link io.torchlstm4j.platform.OpenBlasKernels}, {@link io.torchlstm4j.platform.OpenMpThreads}), and
 * {@link io.torchlstm4j.platform.NativePlatform}, the one entry point of what the library changes in its process.
 * Imports nothing else of the library.
 */
package io.torchlstm4j.platform;
