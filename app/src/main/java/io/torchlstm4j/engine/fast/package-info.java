/**
 * The fast engine: {@code torch.nn.LSTM} as one DL4J layer ({@link io.torchlstm4j.engine.fast.TorchLstmLayer}) that
 * keeps PyTorch's parameter layout and runs on {@link io.torchlstm4j.kernel.LstmKernel}: a few large OpenBLAS calls
 * plus fused gate math (AVX-512 native code in float32 where {@link io.torchlstm4j.platform.NativeLibrary} loads,
 * else vectorised Java loops).
 *
 * <p>{@link io.torchlstm4j.engine.fast.FastEngine} is the API's engine, {@link io.torchlstm4j.engine.fast.FastLstm}
 * composes the layer into a user's ComputationGraph; {@link io.torchlstm4j.engine.fast.FastEngineProvider} offers both
 * to {@link io.torchlstm4j.engine.Engines}.
 */
package io.torchlstm4j.engine.fast;
