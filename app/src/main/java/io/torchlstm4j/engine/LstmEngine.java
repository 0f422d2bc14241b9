package io.torchlstm4j.engine;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.core.SequenceLayout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * The seam between the PyTorch-convention adapter ({@link io.torchlstm4j.TorchLstm}) and a computation.
 *
 * <p>Parameters cross it under {@link ParameterKey}s (layer, direction, kind; shapes of {@link ParameterKey#shape}),
 * never under PyTorch's names: the adapter translates names to keys and back, once, at the PyTorch boundary
 * ({@code io.torchlstm4j.weights.TorchParameterNames}). Maps of parameters are in {@link ParameterKey#all} order.
 *
 * <p>The adapter validates every shape, dtype and length and resolves the caller's layout (a {@link SequenceLayout})
 * before it calls an engine; the engine takes the caller's tensors as they are, with that layout, and never has to
 * check its arguments again. A zero initial state
 * is passed as null (h0 and c0 both), so no call allocates zeros it does not need.
 *
 * <p>Implementations are safe for concurrent use: forward, gradients, parameters and loadParameters may be called from
 * many threads at once, and each call computes what it would compute alone (a load never mixes with a call in
 * flight).
 */
public interface LstmEngine {

    LstmConfig config();

    DataType dataType();

    /**
     * Runs the LSTM on a tensor in the caller's layout.
     *
     * @param input    (L, N, H_in) laid out as {@code layout} says (unbatched: (L, H_in)), the engine's data type,
     *                 any strides
     * @param layout   which axis of {@code input} is time, batch and feature; the output comes back in it
     * @param h0       (numLayers * D, N, H_out), or (numLayers * D, H_out) unbatched, or null for zeros (then c0 is
     *                 null too)
     * @param c0       (numLayers * D, N, H_cell), or (numLayers * D, H_cell) unbatched, or null for zeros
     * @param lengths  null, or N valid lengths in 1..L in any order (PyTorch packed-sequence semantics)
     * @param training true applies dropout between layers
     * @return output (L, N, D * H_out) in {@code layout} with zeros past each length, h_n and c_n (without the N axis
     *         when unbatched)
     */
    LstmOutput forward(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0, int[] lengths,
                       boolean training);

    /** {@link #forward(INDArray, SequenceLayout, INDArray, INDArray, int[], boolean)} on (L, N, H_in) or (L, H_in). */
    default LstmOutput forward(INDArray input, INDArray h0, INDArray c0, int[] lengths, boolean training) {
        return forward(input, SequenceLayout.of(false, input.rank()), h0, c0, lengths, training);
    }

    /**
     * Gradients of the scalar {@code sum(output * outputGradient)} with respect to every parameter, in training
     * mode, one per key of {@link ParameterKey#all} in that order, with the parameter's shape (BIAS_IH and BIAS_HH
     * receive the same gradient, as in PyTorch).
     * Arguments as in {@link #forward(INDArray, SequenceLayout, INDArray, INDArray, int[], boolean)};
     * {@code outputGradient} has the output's shape in {@code layout}.
     *
     * @throws UnsupportedOperationException where the engine cannot compute it (say why)
     */
    Map<ParameterKey, INDArray> gradients(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0,
                                          int[] lengths, INDArray outputGradient);

    /** {@link #gradients(INDArray, SequenceLayout, INDArray, INDArray, int[], INDArray)} on (L, N, H_in) or (L, H_in). */
    default Map<ParameterKey, INDArray> gradients(INDArray input, INDArray h0, INDArray c0, int[] lengths,
                                                  INDArray outputGradient) {
        return gradients(input, SequenceLayout.of(false, input.rank()), h0, c0, lengths, outputGradient);
    }

    /** Copies of the parameters, one per key of {@link ParameterKey#all} in that order. */
    Map<ParameterKey, INDArray> parameters();

    /**
     * Replaces the parameters. The map holds exactly the keys of {@link ParameterKey#all} with the shapes of
     * {@link ParameterKey#shape}, in the engine's data type (the caller checked that).
     */
    void loadParameters(Map<ParameterKey, INDArray> parameters);

    /** The DL4J network that holds the parameters; it trains with {@code fit} like any other. */
    ComputationGraph network();
}
