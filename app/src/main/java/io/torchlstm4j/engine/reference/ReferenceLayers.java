package io.torchlstm4j.engine.reference;

import io.torchlstm4j.core.GateMapping;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.rnn.ReverseTimeSeriesVertex;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.LSTMParamInitializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The reference engine's graph: DL4J's stock {@code LSTM} layer per layer and direction.
 *
 * <p>Vertices for layer k (prefix p): {@code p + "l" + k} (forward LSTM); when bidirectional
 * {@code p + "l" + k + "_reverse_in"} (ReverseTimeSeriesVertex), {@code p + "l" + k + "_reverse"} (backward
 * LSTM), {@code p + "l" + k + "_reverse_out"} (ReverseTimeSeriesVertex) and {@code p + "l" + k + "_out"}
 * (MergeVertex: [forward | backward] features, like PyTorch); between layers, when dropout &gt; 0,
 * {@code p + "l" + k + "_dropout"} (PyTorch's dropout on the layer's output: one mask for both directions
 * of the next layer). The reversal vertices reverse each sample within its own length, taken from the mask of
 * a network input, so the backward direction starts at each sample's last valid step.
 *
 * <p>DL4J's LSTM has no bias switch: with {@code bias=false} its bias is zero and frozen (updater NoOp).
 *
 * <p>Safe for concurrent use: stateless; the networks it builds are DL4J networks, used by one thread at a time.
 */
public final class ReferenceLayers {

    private ReferenceLayers() {
    }

    /** Name of the DL4J LSTM vertex of a layer and direction. */
    public static String lstmVertex(String prefix, int layer, int direction) {
        return prefix + "l" + layer + (direction == 0 ? "" : "_reverse");
    }

    /**
     * Adds the vertices reading NCW input from {@code input}; returns the vertex whose activations are the
     * top layer's output [N, D * H, L].
     *
     * @param maskInput the network input whose feature mask holds the per-sample lengths
     */
    public static String addTo(ComputationGraphConfiguration.GraphBuilder graph, String input, String maskInput,
                               LstmConfig config, String prefix) {
        if (config.projSize() > 0) {
            throw new UnsupportedOperationException("projSize=" + config.projSize() + " (LSTMP) cannot be expressed "
                    + "with DL4J's stock LSTM layers, so the REFERENCE engine does not support it: use Engine.FAST");
        }
        String previous = input;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            int in = config.layerInputSize(layer);
            String forward = lstmVertex(prefix, layer, 0);
            graph.addLayer(forward, lstm(config, in), previous);
            String out = forward;
            if (config.bidirectional()) {
                String backward = lstmVertex(prefix, layer, 1);
                graph.addVertex(backward + "_in", new ReverseTimeSeriesVertex(maskInput), previous);
                graph.addLayer(backward, lstm(config, in), backward + "_in");
                graph.addVertex(backward + "_out", new ReverseTimeSeriesVertex(maskInput), backward);
                out = prefix + "l" + layer + "_out";
                graph.addVertex(out, new MergeVertex(), forward, backward + "_out");
            }
            if (config.dropout() > 0 && layer < config.numLayers() - 1) {
                String dropout = prefix + "l" + layer + "_dropout";
                // DL4J's dropOut value is the probability to retain
                graph.addLayer(dropout, new DropoutLayer.Builder(1.0 - config.dropout()).build(), out);
                out = dropout;
            }
            previous = out;
        }
        return previous;
    }

    private static LSTM lstm(LstmConfig config, int nIn) {
        LSTM.Builder b = new LSTM.Builder().nIn(nIn).nOut(config.hiddenSize())
                .activation(Activation.TANH).gateActivationFunction(Activation.SIGMOID)
                .dataFormat(RNNFormat.NCW);
        if (!config.bias()) {
            b.biasInit(0).biasUpdater(new NoOp());
        }
        return b.build();
    }

    /** Copies parameters (validated by the caller: keys, shapes) into the graph's LSTM layers. */
    public static void loadParameters(ComputationGraph net, String prefix, LstmConfig config,
                                      Map<ParameterKey, INDArray> parameters) {
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.numDirections(); dir++) {
                org.deeplearning4j.nn.api.Layer l = net.getLayer(lstmVertex(prefix, layer, dir));
                GateMapping.load(parameters, layer, dir, l.getParam(LSTMParamInitializer.INPUT_WEIGHT_KEY),
                        l.getParam(LSTMParamInitializer.RECURRENT_WEIGHT_KEY), l.getParam(LSTMParamInitializer.BIAS_KEY));
            }
        }
    }

    /** Copies of the graph's LSTM parameters in {@link ParameterKey#all} order (BIAS_IH = DL4J's bias, BIAS_HH = 0). */
    public static Map<ParameterKey, INDArray> parameters(ComputationGraph net, String prefix, LstmConfig config) {
        Map<ParameterKey, INDArray> parameters = new LinkedHashMap<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.numDirections(); dir++) {
                org.deeplearning4j.nn.api.Layer l = net.getLayer(lstmVertex(prefix, layer, dir));
                GateMapping.export(parameters, layer, dir, l.getParam(LSTMParamInitializer.INPUT_WEIGHT_KEY),
                        l.getParam(LSTMParamInitializer.RECURRENT_WEIGHT_KEY), l.getParam(LSTMParamInitializer.BIAS_KEY),
                        config.bias(), b -> b.ulike().assign(0));
            }
        }
        return parameters;
    }

    /**
     * Gradients from a DL4J {@link org.deeplearning4j.nn.gradient.Gradient} map (keys {@code vertex_W}, ...)
     * by parameter key, in {@link ParameterKey#all} order; BIAS_IH and BIAS_HH both receive DL4J's bias gradient, as
     * in PyTorch.
     */
    public static Map<ParameterKey, INDArray> gradients(Map<String, INDArray> dl4j, String prefix,
                                                        LstmConfig config) {
        Map<ParameterKey, INDArray> gradients = new LinkedHashMap<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.numDirections(); dir++) {
                String v = lstmVertex(prefix, layer, dir) + "_";
                GateMapping.export(gradients, layer, dir, dl4j.get(v + LSTMParamInitializer.INPUT_WEIGHT_KEY),
                        dl4j.get(v + LSTMParamInitializer.RECURRENT_WEIGHT_KEY),
                        dl4j.get(v + LSTMParamInitializer.BIAS_KEY), config.bias(), INDArray::dup);
            }
        }
        return gradients;
    }
}
