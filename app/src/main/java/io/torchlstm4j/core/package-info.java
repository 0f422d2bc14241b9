/**
 * The values every layer of the library shares: {@link io.torchlstm4j.core.LstmConfig} ({@code nn.LSTM}'s
 * arguments), {@link io.torchlstm4j.core.LstmState}, {@link io.torchlstm4j.core.LstmOutput},
 * {@link io.torchlstm4j.core.SequenceLayout} (which axis of a caller's tensor is time, batch and feature) and
 * {@link io.torchlstm4j.core.Engine}. Imports nothing else of the library (docs/design.md, "Layers").
 */
package io.torchlstm4j.core;
