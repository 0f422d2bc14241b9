package io.torchlstm4j.engine;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * One engine's entry points: an {@link LstmEngine} for {@code TorchLstm}, and the LSTM's vertices in a user's
 * ComputationGraph for {@code LstmLayers}. Implementations are found with {@link java.util.ServiceLoader} (listed in
 * {@code META-INF/services/io.torchlstm4j.engine.LstmEngineProvider}), so that neither the API nor this package
 * names an engine class; {@link Engines} looks them up by {@link Engine}.
 *
 * <p>Implementations are stateless and safe for concurrent use; the networks they build are DL4J networks, used by
 * one thread at a time.
 */
public interface LstmEngineProvider {

    /** The engine this provides. */
    Engine engine();

    /**
     * An LSTM initialised like PyTorch from {@code seed} ({@link io.torchlstm4j.core.ParameterInit#lstm}), in
     * {@code dataType} (FLOAT or DOUBLE).
     */
    LstmEngine create(LstmConfig config, DataType dataType, long seed);

    /**
     * Adds the LSTM's vertices reading NCW input [N, H_in, L] from {@code inputVertex}; returns the vertex whose
     * activations are PyTorch's {@code output} as [N, D * H_out, L].
     *
     * @param maskInput the network input whose feature mask holds the per-sample lengths
     */
    String addTo(ComputationGraphConfiguration.GraphBuilder graph, String inputVertex, String maskInput,
                 LstmConfig config, String prefix);

    /**
     * Copies parameters into the vertices of {@code prefix}: exactly the keys of {@link ParameterKey#all} with their
     * shapes (checked by the caller), cast to the network's data type.
     */
    void loadParameters(ComputationGraph net, String prefix, LstmConfig config, Map<ParameterKey, INDArray> parameters);

    /** Copies of the parameters of the vertices added with {@code prefix}, in {@link ParameterKey#all} order. */
    Map<ParameterKey, INDArray> parameters(ComputationGraph net, String prefix, LstmConfig config);
}
