/**
 * The PyTorch boundary: {@code nn.LSTM}'s parameter names ({@link io.torchlstm4j.weights.TorchParameterNames}, the
 * one place that spells them and translates them to and from the engines' {@link io.torchlstm4j.core.ParameterKey}s),
 * state_dicts in files ({@link io.torchlstm4j.weights.StateDicts}) and checked against a configuration
 * ({@link io.torchlstm4j.weights.StateDictValidator}), whole models ({@link io.torchlstm4j.weights.ModelWeights},
 * bound through {@link io.torchlstm4j.weights.LstmModule}), users' own DL4J LSTM layers
 * ({@link io.torchlstm4j.weights.Dl4jLstms}, through {@link io.torchlstm4j.core.GateMapping}), PyTorch's
 * initialisation under PyTorch's names ({@link io.torchlstm4j.weights.TorchInit}) and the parity fixture format
 * ({@link io.torchlstm4j.weights.ParityFixture}). Uses {@code core} and {@code io} only.
 */
package io.torchlstm4j.weights;
