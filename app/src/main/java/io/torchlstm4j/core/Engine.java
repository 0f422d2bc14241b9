package io.torchlstm4j.core;

/**
 * Which computation runs the LSTM. Both give PyTorch's numbers; they differ in speed and in what they support.
 *
 * <p>Safe for concurrent use (an enum).
 */
public enum Engine {
    /**
     * Our own LSTM layer for DL4J ({@code io.torchlstm4j.engine.fast}): few large ND4J operations, PyTorch's
     * parameter layout.
     */
    FAST,
    /** DL4J's stock {@code LSTM} layers, one per layer and direction, in a ComputationGraph. */
    REFERENCE
}
