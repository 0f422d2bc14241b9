package io.torchlstm4j.engine.fast;

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

/**
 * {@link Engine#FAST}: one {@link TorchLstmLayer} ({@link FastEngine}, {@link FastLstm}). Lengths come from the
 * feature mask DL4J passes to the layer, so {@code maskInput} is not needed. Stateless, safe for concurrent use.
 */
public final class FastEngineProvider implements LstmEngineProvider {

    @Override
    public Engine engine() {
        return Engine.FAST;
    }

    @Override
    public LstmEngine create(LstmConfig config, DataType dataType, long seed) {
        return new FastEngine(config, dataType, seed);
    }

    @Override
    public String addTo(ComputationGraphConfiguration.GraphBuilder graph, String inputVertex, String maskInput,
                        LstmConfig config, String prefix) {
        return FastLstm.addTo(graph, inputVertex, config, prefix);
    }

    @Override
    public void loadParameters(ComputationGraph net, String prefix, LstmConfig config,
                               Map<ParameterKey, INDArray> parameters) {
        FastLstm.loadParameters(net, prefix, config, parameters);
    }

    @Override
    public Map<ParameterKey, INDArray> parameters(ComputationGraph net, String prefix, LstmConfig config) {
        return FastLstm.parameters(net, prefix, config);
    }
}
