package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterInit;
import io.torchlstm4j.engine.Engines;
import io.torchlstm4j.weights.LstmModule;
import io.torchlstm4j.weights.StateDictValidator;
import io.torchlstm4j.weights.TorchParameterNames;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.List;
import java.util.Map;

/**
 * Places a PyTorch-convention LSTM inside a larger DL4J {@link ComputationGraph} (e.g. with a classifier head
 * on its last time step) and moves PyTorch parameters in and out of it.
 *
 * <p>The LSTM reads DL4J's NCW layout [N, H_in, L] from a vertex of the graph; the vertex returned by
 * {@link #addTo} holds PyTorch's {@code output} as [N, D * H_out, L]. Per-sample lengths are DL4J feature masks
 * of a network input (the input vertex itself when it is one, else the graph's first input). Vertex names
 * start with {@code prefix}, so several LSTMs can live in one graph.
 *
 * <p>Safe for concurrent use: stateless. A network built with it is a DL4J network, used by one thread at a time
 * (the FAST layer throws {@link IllegalStateException} when its calls overlap): to serve one from many threads, give
 * each thread its own copy (DL4J's {@code ParallelInference} does), or use {@link TorchLstm}, whose forward is safe
 * on a shared instance.
 */
public final class LstmLayers {

    private LstmLayers() {
    }

    /** Adds the LSTM's vertices; returns the name of the vertex whose activations are the output. */
    public static String addTo(ComputationGraphConfiguration.GraphBuilder graph, String inputVertex,
                               LstmConfig config, Engine engine, String prefix) {
        return Engines.provider(engine).addTo(graph, inputVertex, maskInput(graph, inputVertex), config, prefix);
    }

    /** Copies PyTorch parameters (names and shapes as in {@code nn.LSTM.state_dict()}) into the graph. */
    public static void loadStateDict(ComputationGraph net, String prefix, LstmConfig config, Engine engine,
                                     Map<String, INDArray> torchParams) {
        StateDictValidator.validate(config, torchParams, "state_dict");
        Engines.provider(engine).loadParameters(net, prefix, config, TorchParameterNames.keyed(config, torchParams));
    }

    /** The LSTM's parameters in the graph, under PyTorch's names and shapes. */
    public static Map<String, INDArray> stateDict(ComputationGraph net, String prefix, LstmConfig config,
                                                  Engine engine) {
        return TorchParameterNames.named(Engines.provider(engine).parameters(net, prefix, config));
    }

    /** PyTorch's initialisation (every weight and bias from U(-1/sqrt(H), 1/sqrt(H))), from a seed. */
    public static void initLikeTorch(ComputationGraph net, String prefix, LstmConfig config, Engine engine,
                                     long seed) {
        Engines.provider(engine).loadParameters(net, prefix, config,
                ParameterInit.lstm(config, net.getConfiguration().getDataType(), seed));
    }

    /**
     * The LSTM's vertices in the graph as a {@link LstmModule}, for {@link io.torchlstm4j.weights.ModelWeights} and
     * {@link io.torchlstm4j.weights.StateDicts#save(java.nio.file.Path, LstmModule, String)}.
     */
    public static LstmModule module(ComputationGraph net, String prefix, LstmConfig config, Engine engine) {
        return new GraphLstm(net, prefix, config, engine);
    }

    /** The vertices {@link #addTo} added under a prefix; used by one thread at a time, like its network. */
    private record GraphLstm(ComputationGraph net, String prefix, LstmConfig config, Engine engine)
            implements LstmModule {
        @Override
        public DataType dataType() {
            return net.getConfiguration().getDataType();
        }

        @Override
        public Map<String, INDArray> stateDict() {
            return LstmLayers.stateDict(net, prefix, config, engine);
        }

        @Override
        public void loadStateDict(Map<String, INDArray> stateDict) {
            LstmLayers.loadStateDict(net, prefix, config, engine, stateDict);
        }
    }

    private static String maskInput(ComputationGraphConfiguration.GraphBuilder graph, String inputVertex) {
        List<String> inputs = graph.getNetworkInputs();
        return inputs.contains(inputVertex) || inputs.isEmpty() ? inputVertex : inputs.get(0);
    }
}
