package io.torchlstm4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What {@code torch.nn.LSTM} returns: {@code output, (h_n, c_n)}.
 *
 * <p>Safe for concurrent use as a value: the record never changes; the ND4J arrays it holds are the call's results,
 * shared with whoever holds them, not copied.
 *
 * @param output (L, N, D * H_out), (N, L, D * H_out) when batchFirst, or (L, D * H_out) unbatched;
 *               zero past each sample's length when lengths were given
 * @param hN     (numLayers * D, N, H_out), or (numLayers * D, H_out) unbatched
 * @param cN     (numLayers * D, N, H_cell), or (numLayers * D, H_cell) unbatched
 */
public record LstmOutput(INDArray output, INDArray hN, INDArray cN) {

    /** (h_n, c_n) as a state, e.g. to pass as (h_0, c_0) of the next chunk of a stream. */
    public LstmState state() {
        return new LstmState(hN, cN);
    }
}
