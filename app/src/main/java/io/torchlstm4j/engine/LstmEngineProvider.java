package io.torchlstm4j.engine;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
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

    /** An LSTM initialised like PyTorch from {@code seed}, in {@code dataType} (FLOAT or DOUBLE). */
    LstmEngine create(LstmConfig config, DataType dataType, long seed);

    /**
     * Adds the LSTM's vertices reading NCW input [N, H_in, L] from {@code inputVertex}; returns the vertex whose
     * activations are PyTorch's {@code output} as [N, D * H_out, L].
     *
     * @param maskInput the network input whose feature mask holds the per-sample lengths
     */
    String addTo(ComputationGraphConfiguration.GraphBuilder graph, String inputVertex, String maskInput,
                 LstmConfig config, String prefix);

    /** Copies PyTorch parameters (validated by the caller: names, shapes) into the vertices of {@code prefix}. */
    void loadStateDict(ComputationGraph net, String prefix, LstmConfig config, Map<String, INDArray> stateDict);

    /** The parameters of the vertices added with {@code prefix}, under PyTorch's names and shapes. */
    Map<String, INDArray> stateDict(ComputationGraph net, String prefix, LstmConfig config);
}
