/**
 * The recurrence over steps ({@link io.torchlstm4j.kernel.LstmKernel}: forward and backward of a stacked,
 * optionally bidirectional LSTM on preallocated buffers) and where its parameters sit in the flat vectors
 * ({@link io.torchlstm4j.kernel.ParameterTable}). Knows no PyTorch names and no DL4J layer; uses only
 * {@code core} and {@code platform}.
 */
package io.torchlstm4j.kernel;
