package io.torchlstm4j.engine;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * The seam between the PyTorch-convention adapter ({@link io.torchlstm4j.TorchLstm}) and a computation.
 *
 * <p>The adapter validates every shape, dtype and length and translates layouts before it calls an engine;
 * an engine only sees PyTorch's default layout and never has to check its arguments again. A zero initial state
 * is passed as null (h0 and c0 both), so no call allocates zeros it does not need.
 *
 * <p>Implementations are safe for concurrent use: forward, gradients, stateDict and loadStateDict may be called from
 * many threads at once, and each call computes what it would compute alone (a load never mixes with a call in
 * flight).
 */
public interface LstmEngine {

    LstmConfig config();

    DataType dataType();

    /**
     * Runs the LSTM.
     *
     * @param input    (L, N, H_in), the engine's data type
     * @param h0       (numLayers * D, N, H_out), or null for zeros (then c0 is null too)
     * @param c0       (numLayers * D, N, H_cell), or null for zeros
     * @param lengths  null, or N valid lengths in 1..L in any order (PyTorch packed-sequence semantics)
     * @param training true applies dropout between layers
     * @return output (L, N, D * H_out) with zeros past each length, h_n and c_n
     */
    LstmOutput forward(INDArray input, INDArray h0, INDArray c0, int[] lengths, boolean training);

    /**
     * True when {@link #forward} also takes PyTorch's unbatched tensors as they are (input (L, H_in), h0 and c0
     * without the N axis, lengths null) and returns them unbatched (output (L, D * H_out), h_n and c_n without the
     * N axis), with the numbers of the same call on a batch of one. Otherwise the adapter adds and removes the
     * batch axis around the call (each ND4J reshape costs several microseconds, as much as a one-step call's math).
     */
    default boolean takesUnbatched() {
        return false;
    }

    /**
     * Gradients of the scalar {@code sum(output * outputGradient)} with respect to every parameter, in training
     * mode, under PyTorch's names and shapes (bias_ih and bias_hh receive the same gradient, as in PyTorch).
     * Arguments as in {@link #forward}; {@code outputGradient} has the output's shape (L, N, D * H_out).
     *
     * @throws UnsupportedOperationException where the engine cannot compute it (say why)
     */
    Map<String, INDArray> gradients(INDArray input, INDArray h0, INDArray c0, int[] lengths, INDArray outputGradient);

    /** Copies of the parameters under PyTorch's names and shapes, in state_dict order. */
    Map<String, INDArray> stateDict();

    /**
     * Replaces the parameters. The map holds exactly the names of
     * {@link io.torchlstm4j.weights.TorchParameterNames#expectedShapes} with those shapes, in the engine's
     * data type (the caller checked that).
     */
    void loadStateDict(Map<String, INDArray> stateDict);

    /** The DL4J network that holds the parameters; it trains with {@code fit} like any other. */
    ComputationGraph network();
}
