/** Training with PyTorch's numbers on DL4J: {@link io.torchlstm4j.train.TorchAdam}, torch.optim.Adam as a DL4J updater. */
package io.torchlstm4j.train;
