package io.torchlstm4j.core;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The pair (h, c) that {@code torch.nn.LSTM} takes as (h_0, c_0) and returns as (h_n, c_n).
 *
 * <p>Shapes: h is (numLayers * D, N, H_out), c is (numLayers * D, N, H_cell), or without the N axis for
 * unbatched input. {@code batchFirst} never applies to them. Index {@code layer * D + direction}.
 *
 * <p>Safe for concurrent use as a value: the record never changes; the ND4J arrays it holds are the caller's,
 * shared, not copied.
 *
 * @param h hidden state
 * @param c cell state
 */
public record LstmState(INDArray h, INDArray c) {
}
