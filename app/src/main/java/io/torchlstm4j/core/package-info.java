/**
 * The values and name-free conventions every layer of the library shares: {@link io.torchlstm4j.core.LstmConfig}
 * ({@code nn.LSTM}'s arguments), {@link io.torchlstm4j.core.LstmState}, {@link io.torchlstm4j.core.LstmOutput},
 * {@link io.torchlstm4j.core.SequenceLayout} (which axis of a caller's tensor is time, batch and feature),
 * {@link io.torchlstm4j.core.Engine}, and the parameter vocabulary: {@link io.torchlstm4j.core.ParameterKey} (each
 * parameter by layer, direction and kind, with its shape), {@link io.torchlstm4j.core.ParameterInit} (PyTorch's
 * initialisation rule) and {@link io.torchlstm4j.core.GateMapping} (DL4J's gate order). Nothing here spells a
 * PyTorch name. Imports nothing else of the library (docs/design.md, "Layers").
 */
package io.torchlstm4j.core;
