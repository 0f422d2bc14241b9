package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.kernel.ParameterTable;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays out {@link TorchLstmLayer}'s parameters in the flat DL4J parameter vector as two DL4J variables:
 * {@link #WEIGHTS_KEY} holds every weight and {@link #BIASES_KEY} every bias, each group in {@link ParameterKey#all}
 * order, each tensor c-order with {@link ParameterKey#shape} (the {@link ParameterTable}; {@link #parameterViews}
 * gives them by key). DL4J's regularization and bias updater settings apply to the two groups as their names say.
 *
 * <p>Two variables rather than one per PyTorch tensor because DL4J's updater pays per variable (views and JavaCPP
 * allocations on every step): with eight per-tensor variables Adam took a fifth of the MNIST model's training step
 * (docs/design.md). Initialisation is PyTorch's: every parameter U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)), drawn from ND4J's
 * random generator.
 *
 * <p>Safe for concurrent use: stateless.
 */
public final class TorchLstmParamInitializer implements ParamInitializer {

    private static final TorchLstmParamInitializer INSTANCE = new TorchLstmParamInitializer();

    private TorchLstmParamInitializer() {
    }

    public static TorchLstmParamInitializer getInstance() {
        return INSTANCE;
    }

    /** The DL4J variable of all weights (weight_ih, weight_hh, weight_hr of every layer and direction). */
    public static final String WEIGHTS_KEY = "W";
    /** The DL4J variable of all biases (bias_ih, bias_hh of every layer and direction), absent with bias=false. */
    public static final String BIASES_KEY = "b";

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        return TorchLstmLayer.numParams(config(layer));
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        return config(layer).bias() ? List.of(WEIGHTS_KEY, BIASES_KEY) : List.of(WEIGHTS_KEY);
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return List.of(WEIGHTS_KEY);
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return config(layer).bias() ? List.of(BIASES_KEY) : List.of();
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return WEIGHTS_KEY.equals(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return BIASES_KEY.equals(key);
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        LstmConfig config = config(conf.getLayer());
        if (initializeParams) {
            double bound = 1 / Math.sqrt(config.hiddenSize());
            Nd4j.getExecutioner().exec(new UniformDistribution(paramsView, -bound, bound));
        }
        return views(config, paramsView);
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        return views(config(conf.getLayer()), gradientView);
    }

    /** The two variables' views of {@code flat} (any shape with numParams elements, contiguous), as 1-D arrays. */
    static Map<String, INDArray> views(LstmConfig config, INDArray flat) {
        INDArray vector = vector(config, flat);
        long weights = ParameterTable.of(config).weightCount();
        Map<String, INDArray> views = new LinkedHashMap<>();
        views.put(WEIGHTS_KEY, vector.get(NDArrayIndex.interval(0, weights)));
        if (config.bias()) {
            views.put(BIASES_KEY, vector.get(NDArrayIndex.interval(weights, vector.length())));
        }
        return views;
    }

    /**
     * Views of {@code flat} (the layer's parameters or their gradients, numParams elements, contiguous) by key, with
     * their shapes, in {@link ParameterKey#all} order: each key's block of the {@link ParameterTable}.
     */
    static Map<ParameterKey, INDArray> parameterViews(LstmConfig config, INDArray flat) {
        INDArray vector = vector(config, flat);
        ParameterTable table = ParameterTable.of(config);
        Map<ParameterKey, INDArray> views = new LinkedHashMap<>();
        for (ParameterKey key : ParameterKey.all(config)) {
            ParameterTable.Block block = table.block(key);
            // W, then b: a bias's offset counts from the end of the weights
            long start = (key.kind().isBias() ? table.weightCount() : 0) + block.offset();
            views.put(key, vector.get(NDArrayIndex.interval(start, start + block.size()))
                    .reshape('c', key.shape(config)));
        }
        return views;
    }

    private static INDArray vector(LstmConfig config, INDArray flat) {
        long expected = TorchLstmLayer.numParams(config);
        if (flat.length() != expected) {
            throw new IllegalStateException("internal: parameter view has " + flat.length() + " elements, "
                    + config + " has " + expected);
        }
        return flat.reshape(flat.length());
    }

    private static LstmConfig config(Layer layer) {
        if (!(layer instanceof TorchLstmLayer lstm)) {
            throw new IllegalArgumentException("TorchLstmParamInitializer serves TorchLstmLayer, got "
                    + (layer == null ? "null" : layer.getClass().getName()));
        }
        return lstm.lstmConfig();
    }
}
