package io.torchlstm4j.engine;

import io.torchlstm4j.LstmConfig;
import io.torchlstm4j.LstmOutput;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** DL4J's stock LSTM layers per layer and direction in a ComputationGraph. (being written) */
final class ReferenceEngine implements LstmEngine {
    private final LstmConfig config;
    private final DataType dataType;

    ReferenceEngine(LstmConfig config, DataType dataType, long seed) {
        this.config = config;
        this.dataType = dataType;
    }

    @Override public LstmConfig config() { return config; }
    @Override public DataType dataType() { return dataType; }
    @Override public LstmOutput forward(INDArray input, INDArray h0, INDArray c0, int[] lengths, boolean training) {
        throw new UnsupportedOperationException("being written");
    }
    @Override public Map<String, INDArray> gradients(INDArray input, INDArray h0, INDArray c0, int[] lengths, INDArray outputGradient) {
        throw new UnsupportedOperationException("being written");
    }
    @Override public Map<String, INDArray> stateDict() { throw new UnsupportedOperationException("being written"); }
    @Override public void loadStateDict(Map<String, INDArray> stateDict) { throw new UnsupportedOperationException("being written"); }
    @Override public ComputationGraph network() { throw new UnsupportedOperationException("being written"); }
}
