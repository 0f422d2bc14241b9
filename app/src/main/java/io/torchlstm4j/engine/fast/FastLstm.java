package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterInit;
import io.torchlstm4j.core.ParameterKey;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Composition helpers for the fast engine: put a {@code torch.nn.LSTM} into a DL4J ComputationGraph as one
 * {@link TorchLstmLayer} vertex named {@code prefix + "lstm"}, and move its parameters in and out under
 * {@link ParameterKey}s.
 *
 * <p>Safe for concurrent use: stateless; {@link #loadParameters} waits for the layer's direct calls in flight, and
 * a network built with it is used by one thread at a time, as any DL4J network (see {@link TorchLstmLayerImpl}).
 */
public final class FastLstm {

    private FastLstm() {
    }

    /**
     * Adds the LSTM reading NCW {@code [N, H_in, L]} from {@code inputVertex}. When that vertex is a network input,
     * backprop skips the gradient with respect to it (DL4J discards it).
     *
     * @return the vertex name ({@code prefix + "lstm"}), whose activations are PyTorch's {@code output} in NCW
     *     {@code [N, D * H_out, L]}
     */
    public static String addTo(ComputationGraphConfiguration.GraphBuilder graph, String inputVertex, LstmConfig config,
                               String prefix) {
        String name = prefix + "lstm";
        boolean networkInput = graph.getNetworkInputs().contains(inputVertex);
        graph.addLayer(name, new TorchLstmLayer.Builder(config).inputGradient(!networkInput).build(), inputVertex);
        return name;
    }

    /**
     * Replaces the parameters of the LSTM added with {@code prefix}: {@code parameters} holds exactly the keys of
     * {@link ParameterKey#all} with their shapes (the caller validated them; a broken promise is an
     * {@link IllegalStateException} before anything changes); values are cast to the network's type. Waits for the
     * layer's direct calls in flight; calls made meanwhile wait for the load.
     */
    public static void loadParameters(ComputationGraph net, String prefix, LstmConfig config,
                                      Map<ParameterKey, INDArray> parameters) {
        layer(net, prefix, config).writeParameters(parameters);
    }

    /** Copies of the LSTM's parameters, in {@link ParameterKey#all} order. */
    public static Map<ParameterKey, INDArray> parameters(ComputationGraph net, String prefix, LstmConfig config) {
        TorchLstmLayerImpl layer = layer(net, prefix, config);
        return layer.parameterCopies();
    }

    /**
     * Re-draws every parameter like PyTorch, U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)), from {@code seed}: the values
     * of {@link ParameterInit#lstm} (and so the reference engine's, for the same seed).
     */
    public static void initLikeTorch(ComputationGraph net, String prefix, LstmConfig config, long seed) {
        DataType dataType = layer(net, prefix, config).params().dataType();
        loadParameters(net, prefix, config, ParameterInit.lstm(config, dataType, seed));
    }

    /** The fast LSTM layer of {@code net} added under {@code prefix}, checked against {@code config}. */
    static TorchLstmLayerImpl layer(ComputationGraph net, String prefix, LstmConfig config) {
        String name = prefix + "lstm";
        GraphVertex vertex = net.getVertex(name);
        if (vertex == null || !(vertex.getLayer() instanceof TorchLstmLayerImpl lstm)) {
            List<String> names = new ArrayList<>();
            for (GraphVertex v : net.getVertices()) {
                if (v.getLayer() instanceof TorchLstmLayerImpl) {
                    names.add(v.getVertexName());
                }
            }
            throw new IllegalArgumentException("the network has no fast LSTM vertex '" + name + "' (prefix '" + prefix
                    + "'); its fast LSTM vertices are " + names);
        }
        LstmConfig expected = config.toBuilder().batchFirst(false).build();
        if (!lstm.config().equals(expected)) {
            throw new IllegalArgumentException("vertex '" + name + "' holds " + lstm.config() + " but " + config
                    + " was given");
        }
        return lstm;
    }
}
