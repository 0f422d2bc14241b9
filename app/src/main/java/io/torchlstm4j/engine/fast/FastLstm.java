package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.weights.StateDictValidator;
import io.torchlstm4j.weights.TorchInit;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Composition helpers for the fast engine: put a {@code torch.nn.LSTM} into a DL4J ComputationGraph as one
 * {@link TorchLstmLayer} vertex named {@code prefix + "lstm"}, and move its parameters in and out under PyTorch's
 * names.
 *
 * <p>Safe for concurrent use: stateless; {@link #loadStateDict} waits for the layer's direct calls in flight, and
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
     * PyTorch's {@code load_state_dict(strict=True)} for the LSTM added with {@code prefix}: every problem (missing,
     * unexpected, shape, dtype) is reported at once before anything changes; values are cast to the network's type.
     * Waits for the layer's direct calls in flight; calls made meanwhile wait for the load.
     */
    public static void loadStateDict(ComputationGraph net, String prefix, LstmConfig config,
                                     Map<String, INDArray> torchParams) {
        TorchLstmLayerImpl layer = layer(net, prefix, config);
        StateDictValidator.validate(config, torchParams, "state_dict");
        Map<String, INDArray> cast = new LinkedHashMap<>();
        layer.torchParams().forEach((name, param) -> cast.put(name, torchParams.get(name).castTo(param.dataType())));
        layer.writeParameters(() -> layer.torchParams().forEach((name, param) -> param.assign(cast.get(name))));
    }

    /** Copies of the LSTM's parameters under PyTorch's names and shapes, in state_dict order. */
    public static Map<String, INDArray> stateDict(ComputationGraph net, String prefix, LstmConfig config) {
        TorchLstmLayerImpl layer = layer(net, prefix, config);
        return layer.readParameters(() -> {
            Map<String, INDArray> result = new LinkedHashMap<>();
            layer.torchParams().forEach((name, param) -> result.put(name, param.dup('c')));
            return result;
        });
    }

    /**
     * Re-draws every parameter like PyTorch, U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)), from {@code seed}: the same
     * values {@link TorchInit#lstmStateDict} gives (and so the reference engine, for the same seed).
     */
    public static void initLikeTorch(ComputationGraph net, String prefix, LstmConfig config, long seed) {
        DataType dataType = layer(net, prefix, config).params().dataType();
        loadStateDict(net, prefix, config, TorchInit.lstmStateDict(config, dataType, seed));
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
