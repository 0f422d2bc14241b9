package io.torchlstm4j.engine.reference;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.engine.LstmEngine;
import io.torchlstm4j.engine.LstmEngineProvider;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/** {@link Engine#REFERENCE}: DL4J's stock LSTM layers ({@link ReferenceLayers}). Stateless, safe for concurrent use. */
public final class ReferenceEngineProvider implements LstmEngineProvider {

    @Override
    public Engine engine() {
        return Engine.REFERENCE;
    }

    @Override
    public LstmEngine create(LstmConfig config, DataType dataType, long seed) {
        return new ReferenceEngine(config, dataType, seed);
    }

    @Override
    public String addTo(ComputationGraphConfiguration.GraphBuilder graph, String inputVertex, String maskInput,
                        LstmConfig config, String prefix) {
        return ReferenceLayers.addTo(graph, inputVertex, maskInput, config, prefix);
    }

    @Override
    public void loadParameters(ComputationGraph net, String prefix, LstmConfig config,
                               Map<ParameterKey, INDArray> parameters) {
        ReferenceLayers.loadParameters(net, prefix, config, parameters);
    }

    @Override
    public Map<ParameterKey, INDArray> parameters(ComputationGraph net, String prefix, LstmConfig config) {
        return ReferenceLayers.parameters(net, prefix, config);
    }
}
