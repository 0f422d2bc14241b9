package io.torchlstm4j.verify;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * What {@link LayoutVerifier} checks: something that builds an LSTM from a configuration and PyTorch parameters
 * and runs it with PyTorch's conventions. {@link #adapter(Engine)} is the project's adapter; tests plug in
 * deliberately broken ones to show that each check can fail.
 */
@FunctionalInterface
public interface LstmFactory {

    /** An LSTM with this configuration and these parameters (PyTorch names and shapes), in evaluation mode. */
    Model build(LstmConfig config, Map<String, INDArray> stateDict);

    /** A built LSTM: PyTorch's {@code forward}. */
    @FunctionalInterface
    interface Model {
        /**
         * @param state   (h0, c0) or null for zeros
         * @param lengths per-sample lengths (packed sequence semantics) or null
         */
        LstmOutput forward(INDArray input, LstmState state, int[] lengths);
    }

    /** {@link TorchLstm#fromStateDict} on {@code engine}, in evaluation mode. */
    static LstmFactory adapter(Engine engine) {
        return (config, stateDict) -> TorchLstm.fromStateDict(config, engine, stateDict).eval()::forward;
    }
}
