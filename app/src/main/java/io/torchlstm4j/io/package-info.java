/**
 * Tensor files: PyTorch's own checkpoints, {@code torch.save} .pt/.pth ({@link io.torchlstm4j.io.TorchCheckpoint},
 * read without running their pickles), safetensors ({@link io.torchlstm4j.io.Safetensors}), NumPy {@code .npz}
 * ({@link io.torchlstm4j.io.Npz}), and atomic file writing ({@link io.torchlstm4j.io.AtomicFiles}). Imports nothing
 * else of the library; PyTorch's names and the parity fixture format are {@code io.torchlstm4j.weights}'.
 *
 * <p>Readers check every header value before they use it: a corrupt or unsupported file is a
 * {@link io.torchlstm4j.io.TensorFileException} whose message names the file, the tensor or field, and what is
 * wrong; no allocation is sized by a value that was not checked against the bytes actually present.
 */
package io.torchlstm4j.io;
