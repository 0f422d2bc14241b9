package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.core.SequenceLayout;
import io.torchlstm4j.engine.LstmEngine;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/**
 * The fast engine: one {@link TorchLstmLayer} (the whole LSTM) in a ComputationGraph with input {@code "input"} and
 * output vertex {@code "lstm"}. Supports every configuration of {@link LstmConfig}, float32 and float64.
 *
 * <p>Parameters come and go under {@link ParameterKey}s ({@link TorchLstmParamInitializer} lays them out in the
 * network's two variables); PyTorch's names are the adapter's business.
 *
 * <p>Safe for concurrent use: forward and gradients run on many threads at once, each call in working memory of its
 * own; loading parameters waits for the calls in flight, and calls made meanwhile wait for it (see
 * {@link TorchLstmLayerImpl}).
 */
public final class FastEngine implements LstmEngine {

    private final LstmConfig config;
    private final DataType dataType;
    private final ComputationGraph network;
    /** The network's one layer, looked up and checked once (its vertices never change after init). */
    private final TorchLstmLayerImpl layer;

    /** An LSTM initialised like PyTorch from {@code seed}. */
    public FastEngine(LstmConfig config, DataType dataType, long seed) {
        this.config = config;
        this.dataType = dataType;
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dataType)
                .graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.recurrent(config.inputSize()));
        graph.setOutputs(FastLstm.addTo(graph, "input", config, ""));
        this.network = new ComputationGraph(graph.build());
        network.init();
        FastLstm.initLikeTorch(network, "", config, seed);
        this.layer = FastLstm.layer(network, "", config);
        layer.parametersPrivate(true);
    }

    @Override
    public LstmConfig config() {
        return config;
    }

    @Override
    public DataType dataType() {
        return dataType;
    }

    @Override
    public LstmOutput forward(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0, int[] lengths,
                              boolean training) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return layer.forward(input, layout, h0, c0, lengths, training);
        }
    }

    @Override
    public Map<ParameterKey, INDArray> gradients(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0,
                                                 int[] lengths, INDArray outputGradient) {
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return layer.gradients(input, layout, h0, c0, lengths, outputGradient);
        }
    }

    @Override
    public Map<ParameterKey, INDArray> parameters() {
        return FastLstm.parameters(network, "", config);
    }

    @Override
    public void loadParameters(Map<ParameterKey, INDArray> parameters) {
        FastLstm.loadParameters(network, "", config, parameters);
    }

    /** True when the layer uses transposed weights for a small batch (see {@link TorchLstmLayerImpl}). */
    boolean usesColumnProducts() {
        return layer.usesColumnProducts();
    }

    /** True when the layer runs its gate math in {@link NativeGates} (decided when first asked or run). */
    boolean nativeGateMath() {
        return layer.nativeGateMath();
    }

    /**
     * The network; from now on its parameters may change in place without the layer knowing (a user's write, DL4J's
     * updater in {@code fit}), so the layer stops keeping copies derived from them (the transposed weights of a batch
     * of one).
     */
    @Override
    public ComputationGraph network() {
        layer.parametersPrivate(false);
        return network;
    }
}
