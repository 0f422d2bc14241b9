package io.torchlstm4j.fast;

import io.torchlstm4j.LstmConfig;
import io.torchlstm4j.weights.TorchParameterNames;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays out {@link TorchLstmLayer}'s parameters in the flat DL4J parameter vector: PyTorch's parameters in state_dict
 * order, each a c-order view with PyTorch's shape, under the key {@link #paramKey(String)} (PyTorch's name in
 * camelCase, e.g. {@code weight_ih_l0_reverse} -> {@code weightIhL0Reverse}: DL4J splits "vertex_param" names at the
 * last underscore, so a DL4J parameter key must not contain one). Weights are the {@code weight*} parameters, biases
 * the {@code bias*} ones (DL4J's regularization and bias updater settings apply as their names say). Initialisation
 * is PyTorch's: every parameter U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)), drawn from ND4J's random generator.
 */
public final class TorchLstmParamInitializer implements ParamInitializer {

    private static final TorchLstmParamInitializer INSTANCE = new TorchLstmParamInitializer();

    private TorchLstmParamInitializer() {
    }

    public static TorchLstmParamInitializer getInstance() {
        return INSTANCE;
    }

    /** The DL4J parameter key of a PyTorch parameter name: underscores removed, the next letter capitalised. */
    public static String paramKey(String torchName) {
        StringBuilder key = new StringBuilder(torchName.length());
        boolean upper = false;
        for (char ch : torchName.toCharArray()) {
            if (ch == '_') {
                upper = true;
            } else {
                key.append(upper ? Character.toUpperCase(ch) : ch);
                upper = false;
            }
        }
        return key.toString();
    }

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
        return keys(layer, "");
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return keys(layer, "weight");
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return keys(layer, "bias");
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return key.startsWith("weight");
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return key.startsWith("bias");
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

    /** Views of {@code flat} (any shape with numParams elements, contiguous) under their keys, PyTorch's shapes. */
    static Map<String, INDArray> views(LstmConfig config, INDArray flat) {
        long expected = TorchLstmLayer.numParams(config);
        if (flat.length() != expected) {
            throw new IllegalStateException("internal: parameter view has " + flat.length() + " elements, "
                    + config + " has " + expected);
        }
        INDArray vector = flat.reshape(flat.length());
        Map<String, INDArray> views = new LinkedHashMap<>();
        long offset = 0;
        for (Map.Entry<String, long[]> e : TorchParameterNames.expectedShapes(config).entrySet()) {
            long size = 1;
            for (long s : e.getValue()) {
                size *= s;
            }
            views.put(paramKey(e.getKey()), vector.get(NDArrayIndex.interval(offset, offset + size)).reshape('c', e.getValue()));
            offset += size;
        }
        return views;
    }

    private static List<String> keys(Layer layer, String prefix) {
        List<String> keys = new ArrayList<>();
        for (String name : TorchParameterNames.expectedShapes(config(layer)).keySet()) {
            String key = paramKey(name);
            if (key.startsWith(prefix)) {
                keys.add(key);
            }
        }
        return keys;
    }

    private static LstmConfig config(Layer layer) {
        if (!(layer instanceof TorchLstmLayer lstm)) {
            throw new IllegalArgumentException("TorchLstmParamInitializer serves TorchLstmLayer, got "
                    + (layer == null ? "null" : layer.getClass().getName()));
        }
        return lstm.lstmConfig();
    }
}
