package io.torchlstm4j;

import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs a long sequence chunk by chunk through a unidirectional LSTM, passing (h_n, c_n) of one chunk as
 * (h_0, c_0) of the next: the outputs, concatenated along time, and the final state equal one
 * {@link TorchLstm#forward} over the whole sequence.
 *
 * <p>A bidirectional LSTM cannot stream: its backward direction starts at the last step of the whole
 * sequence, which no chunk but the last has. {@link TorchLstm#stream} refuses it.
 *
 * <p>Not thread-safe: the carried state changes with every chunk.
 */
public final class LstmStream {

    private final TorchLstm lstm;
    private LstmState state;

    LstmStream(TorchLstm lstm, LstmState initial) {
        if (lstm.config().bidirectional()) {
            throw new UnsupportedOperationException("A bidirectional LSTM cannot stream: its backward direction "
                    + "starts at the last step of the whole sequence, which a chunk does not have, so chunked "
                    + "results would differ from one call. Run the whole sequence with forward(...) instead");
        }
        this.lstm = lstm;
        this.state = initial;
    }

    /**
     * Runs the next chunk (the LSTM's layout: (L_chunk, N, H_in), (N, L_chunk, H_in) when batchFirst, or
     * unbatched) from the carried state, and carries its (h_n, c_n) on.
     */
    public LstmOutput next(INDArray chunk) {
        LstmOutput out = lstm.forward(chunk, state);
        state = out.state();
        return out;
    }

    /** The state the next chunk starts from; null before the first chunk when no initial state was given. */
    public LstmState state() {
        return state;
    }
}
