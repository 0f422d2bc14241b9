/**
 * The reference engine: DL4J's stock {@code LSTM} layers, one per layer and direction, in a ComputationGraph
 * ({@link io.torchlstm4j.engine.reference.ReferenceLayers}), behind {@link io.torchlstm4j.engine.LstmEngine}.
 */
package io.torchlstm4j.engine.reference;
