/**
 * The fast engine: {@code torch.nn.LSTM} as one DL4J layer ({@link io.torchlstm4j.engine.fast.TorchLstmLayer}) that keeps
 * PyTorch's parameter names and layout and runs on a few large OpenBLAS calls plus fused gate math (AVX-512 native
 * code in float32 where {@link io.torchlstm4j.platform.NativeGates} loads, else vectorised Java loops).
 *
 * <p>{@link io.torchlstm4j.engine.fast.FastEngine} is the adapter's engine; {@link io.torchlstm4j.engine.fast.FastLstm} composes the
 * layer into a user's ComputationGraph.
 */
package io.torchlstm4j.engine.fast;
