package io.torchlstm4j.weights;

import io.torchlstm4j.core.GateMapping;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.GravesBidirectionalLSTM;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BidirectionalParamInitializer;
import org.deeplearning4j.nn.params.LSTMParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code torch.nn.LSTM} held by DL4J's own layers: one {@code LSTM} per PyTorch layer (unidirectional) or one
 * {@code Bidirectional(Mode.CONCAT, LSTM)} per PyTorch layer (bidirectional), stacked in order, in a
 * MultiLayerNetwork or ComputationGraph built by anyone (e.g. restored with ModelSerializer).
 *
 * <table>
 * <caption>DL4J layer k to PyTorch (H = hidden_size = the LSTM's nOut)</caption>
 * <tr><th>DL4J layer k</th><th>parameters</th><th>PyTorch</th></tr>
 * <tr><td>LSTM</td><td>W, RW, b</td><td>weight_ih_lk, weight_hh_lk, bias_ih_lk + bias_hh_lk</td></tr>
 * <tr><td>Bidirectional(CONCAT, LSTM)</td><td>fW, fRW, fb</td><td>the same names (forward direction)</td></tr>
 * <tr><td></td><td>bW, bRW, bb</td><td>weight_ih_lk_reverse, ... (backward direction)</td></tr>
 * </table>
 * Each parameter maps through {@link GateMapping} (gate order, transposes, b = P(bias_ih + bias_hh)); going back,
 * bias_ih = b and bias_hh = 0. DL4J's LSTM always has a bias: a state_dict of {@code bias=False} loads as zero
 * bias, and {@link #config()} says {@code bias=true}.
 *
 * <p>What a DL4J network must be to hold an {@code nn.LSTM} is checked when this is made, and every problem is kept
 * ({@link #problems()}): a layer that is not an LSTM (GRU, SimpleRnn, a dense layer given by name), GravesLSTM
 * (peephole connections nn.LSTM lacks), an activation other than tanh or a gate activation other than sigmoid, a
 * Bidirectional mode other than CONCAT, layers with different directions or hidden sizes, a layer whose nIn is not
 * the output size of the layer below. {@link #loadStateDict} adds every mismatch with the state_dict (layer count,
 * a direction missing, sizes, keys) and names them all at once.
 *
 * <p>Not safe for concurrent use with anything that reads or writes the layers' parameters.
 */
public final class Dl4jLstms {

    /**
     * One direction of one PyTorch layer in DL4J.
     *
     * @param dl4jLayer  the DL4J layer's name
     * @param dl4jType   e.g. {@code LSTM} or {@code Bidirectional(CONCAT, LSTM)}
     * @param layer      PyTorch's layer index k
     * @param direction  0 forward, 1 backward
     * @param dl4jParams DL4J's parameter keys, e.g. {@code fW, fRW, fb}
     * @param torchNames PyTorch's names, e.g. {@code weight_ih_l0, weight_hh_l0, bias_ih_l0 + bias_hh_l0}
     * @param inputSize  the layer's input size (nIn)
     * @param hiddenSize the direction's hidden size (nOut of the LSTM)
     */
    public record Entry(String dl4jLayer, String dl4jType, int layer, int direction, String dl4jParams,
                        String torchNames, long inputSize, long hiddenSize) {
    }

    private static final String[] KEYS = {LSTMParamInitializer.INPUT_WEIGHT_KEY,
            LSTMParamInitializer.RECURRENT_WEIGHT_KEY, LSTMParamInitializer.BIAS_KEY};
    private static final String[] DIRECTION_PREFIX = {BidirectionalParamInitializer.FORWARD_PREFIX,
            BidirectionalParamInitializer.BACKWARD_PREFIX};

    private final List<Layer> layers;
    private final List<String> names;
    private final List<String> problems = new ArrayList<>();
    private final List<Entry> layout = new ArrayList<>();
    private final LstmConfig config;

    private Dl4jLstms(List<Layer> layers, List<String> names) {
        this.layers = List.copyOf(layers);
        this.names = List.copyOf(names);
        this.config = inspect();
    }

    /** Every recurrent layer of the network (LSTM, Bidirectional, GravesLSTM, ...), in layer order. */
    public static Dl4jLstms of(MultiLayerNetwork net) {
        List<Layer> found = new ArrayList<>();
        for (Layer l : net.getLayers()) {
            if (isRecurrent(l.conf().getLayer())) found.add(l);
        }
        return new Dl4jLstms(found, namesOf(found));
    }

    /** The network's layers at these indices, in this order. */
    public static Dl4jLstms of(MultiLayerNetwork net, int... layerIndices) {
        List<Layer> chosen = new ArrayList<>();
        for (int i : layerIndices) {
            if (i < 0 || i >= net.getnLayers()) {
                throw new IllegalArgumentException("layer index " + i + " is outside the network's layers 0.."
                        + (net.getnLayers() - 1));
            }
            chosen.add(net.getLayer(i));
        }
        return new Dl4jLstms(chosen, namesOf(chosen));
    }

    /** Every recurrent layer vertex of the graph, in topological order. */
    public static Dl4jLstms of(ComputationGraph net) {
        List<Layer> found = new ArrayList<>();
        List<String> names = new ArrayList<>();
        GraphVertex[] vertices = net.getVertices();
        for (int i : net.topologicalSortOrder()) {
            GraphVertex v = vertices[i];
            if (v.hasLayer() && isRecurrent(v.getLayer().conf().getLayer())) {
                found.add(v.getLayer());
                names.add(v.getVertexName());
            }
        }
        return new Dl4jLstms(found, names);
    }

    /** The graph's layer vertices with these names, in this order. */
    public static Dl4jLstms of(ComputationGraph net, String... layerNames) {
        List<Layer> chosen = new ArrayList<>();
        for (String name : layerNames) {
            GraphVertex v = net.getVertex(name);
            if (v == null || !v.hasLayer()) {
                throw new IllegalArgumentException("the graph has no layer vertex '" + name + "' (layers: "
                        + namesOf(List.of(net.getLayers())) + ")");
            }
            chosen.add(v.getLayer());
        }
        return new Dl4jLstms(chosen, List.of(layerNames));
    }

    /** What keeps these layers from holding an {@code nn.LSTM}, one line each; empty when nothing does. */
    public List<String> problems() {
        return List.copyOf(problems);
    }

    /**
     * The {@code nn.LSTM} the layers hold: inputSize = nIn of the first, hiddenSize = nOut of its LSTM, numLayers
     * = the number of layers, bidirectional when they are Bidirectional, bias = true, batchFirst = false.
     *
     * @throws IllegalArgumentException listing {@link #problems()} when there are any
     */
    public LstmConfig config() {
        if (config == null) {
            throw new IllegalArgumentException("the DL4J layers " + names + " do not hold an nn.LSTM:\n\t"
                    + String.join("\n\t", problems));
        }
        return config;
    }

    /** One entry per PyTorch (layer, direction), in h_n order (index layer * D + direction). */
    public List<Entry> layout() {
        return List.copyOf(layout);
    }

    /** The DL4J layers, PyTorch layer k at index k. */
    public List<Layer> layers() {
        return layers;
    }

    /** The DL4J layers' names, in the order of {@link #layers()}. */
    public List<String> names() {
        return names;
    }

    /** The parameters' data type. */
    public DataType dataType() {
        return layers.isEmpty() ? DataType.FLOAT : layers.get(0).params().dataType();
    }

    /**
     * PyTorch's {@code load_state_dict(strict=True)} on the layers ({@code nn.LSTM} names, no prefix; a model's
     * tensors are selected with {@link StateDicts#load}): every mismatch of the layers ({@link #problems()}) and of
     * the state_dict against them (layer count, a direction missing, sizes, missing and unexpected keys, dtypes) is
     * named in one exception, before anything is changed. Tensors are converted to the layers' data type.
     *
     * @param source where the tensors came from, for the message
     */
    public void loadStateDict(Map<String, INDArray> stateDict, String source) {
        List<String> all = new ArrayList<>(problems);
        StateDicts.Keys keys = StateDicts.keys(stateDict);
        if (keys.numLayers() != layers.size()) {
            all.add("the state_dict has " + (keys.numLayers() == 0 ? "no LSTM layer (no weight_ih_l0)"
                    : keys.numLayers() + " LSTM layer(s) (weight_ih_l0 .. weight_ih_l" + (keys.numLayers() - 1) + ")")
                    + " but the DL4J network has " + layers.size() + ": " + names);
        }
        if (config != null) {
            for (int k = 0; k < layers.size(); k++) {
                if (keys.bidirectional() && !config.bidirectional()) {
                    all.add("layer " + k + ": the state_dict has a backward direction ("
                            + TorchParameterNames.weightIh(k, 1) + ") but DL4J layer '" + names.get(k) + "' is a "
                            + "plain LSTM with one direction: wrap it in Bidirectional(Mode.CONCAT, LSTM)");
                } else if (!keys.bidirectional() && config.bidirectional()) {
                    all.add("layer " + k + ": DL4J layer '" + names.get(k) + "' is Bidirectional but the state_dict "
                            + "has no backward direction (no " + TorchParameterNames.weightIh(k, 1) + ")");
                }
            }
            all.addAll(StateDictValidator.problems(TorchParameterNames.expectedShapes(withBias(keys.bias())),
                    stateDict));
        }
        if (!all.isEmpty()) {
            throw new IllegalArgumentException(StateDictValidator.message(all, source, "the DL4J layers " + names
                    + (config == null ? "" : " holding " + config)));
        }
        load(stateDict);
    }

    /** Copies an already validated state_dict into the layers. */
    void load(Map<String, INDArray> stateDict) {
        Map<ParameterKey, INDArray> keyed = TorchParameterNames.keyed(config, stateDict);
        for (int k = 0; k < layers.size(); k++) {
            for (int d = 0; d < config.numDirections(); d++) {
                GateMapping.load(keyed, k, d, param(k, d, 0), param(k, d, 1), param(k, d, 2));
            }
        }
    }

    /** The layers' parameters under PyTorch's names, in state_dict order (bias_ih = DL4J's bias, bias_hh = 0). */
    public Map<String, INDArray> stateDict() {
        LstmConfig c = config();
        Map<ParameterKey, INDArray> keyed = new LinkedHashMap<>();
        for (int k = 0; k < layers.size(); k++) {
            for (int d = 0; d < c.numDirections(); d++) {
                GateMapping.export(keyed, k, d, param(k, d, 0), param(k, d, 1), param(k, d, 2), true,
                        b -> b.ulike().assign(0));
            }
        }
        return TorchParameterNames.named(keyed);
    }

    private INDArray param(int layer, int direction, int key) {
        String prefix = config.bidirectional() ? DIRECTION_PREFIX[direction] : "";
        return layers.get(layer).getParam(prefix + KEYS[key]);
    }

    private LstmConfig withBias(boolean bias) {
        return new LstmConfig(config.inputSize(), config.hiddenSize(), config.numLayers(), bias, false, 0,
                config.bidirectional(), 0);
    }

    /** Checks every layer, fills {@link #problems} and {@link #layout}; the configuration, or null on problems. */
    private LstmConfig inspect() {
        if (layers.isEmpty()) {
            problems.add("no LSTM layer was found");
            return null;
        }
        long inputSize = -1;
        long hiddenSize = -1;
        int directions = -1;
        for (int k = 0; k < layers.size(); k++) {
            String name = names.get(k);
            org.deeplearning4j.nn.conf.layers.Layer conf = layers.get(k).conf().getLayer();
            boolean bidirectional = conf instanceof Bidirectional;
            String type;
            if (bidirectional) {
                Bidirectional b = (Bidirectional) conf;
                type = "Bidirectional(" + b.getMode() + ", " + b.getFwd().getClass().getSimpleName() + ")";
                if (b.getMode() != Bidirectional.Mode.CONCAT) {
                    problems.add("DL4J layer '" + name + "' is " + type + ", but nn.LSTM concatenates the two "
                            + "directions [forward | backward]: Bidirectional.Mode.CONCAT was expected");
                }
                conf = b.getFwd();
            } else {
                type = conf.getClass().getSimpleName();
            }
            LSTM lstm = checkLstm(conf, name, type);
            if (lstm == null) continue;
            int d = bidirectional ? 2 : 1;
            if (k == 0) {
                inputSize = lstm.getNIn();
                hiddenSize = lstm.getNOut();
                directions = d;
            } else {
                if (d != directions) {
                    problems.add("DL4J layer '" + name + "' (layer " + k + ") has " + d + " direction(s) but layer 0 "
                            + "has " + directions + ": every layer of an nn.LSTM has the same");
                }
                if (lstm.getNOut() != hiddenSize) {
                    problems.add("DL4J layer '" + name + "' (layer " + k + ") has nOut " + lstm.getNOut()
                            + " but layer 0 has " + hiddenSize + ": nn.LSTM has one hidden_size");
                }
                if (directions > 0 && lstm.getNIn() != directions * hiddenSize) {
                    problems.add("DL4J layer '" + name + "' (layer " + k + ") has nIn " + lstm.getNIn() + " but the "
                            + "layer below outputs D * hidden_size = " + directions * hiddenSize);
                }
            }
            for (int dir = 0; dir < d; dir++) {
                String p = bidirectional ? DIRECTION_PREFIX[dir] : "";
                layout.add(new Entry(name, type, k, dir, p + KEYS[0] + ", " + p + KEYS[1] + ", " + p + KEYS[2],
                        TorchParameterNames.weightIh(k, dir) + ", " + TorchParameterNames.weightHh(k, dir) + ", "
                                + TorchParameterNames.biasIh(k, dir) + " + " + TorchParameterNames.biasHh(k, dir),
                        lstm.getNIn(), lstm.getNOut()));
            }
        }
        if (!problems.isEmpty()) return null;
        try {
            return new LstmConfig(Math.toIntExact(inputSize), Math.toIntExact(hiddenSize), layers.size(), true, false,
                    0, directions == 2, 0);
        } catch (IllegalArgumentException | ArithmeticException e) {
            problems.add("the layers' sizes do not make an nn.LSTM: " + e.getMessage());
            return null;
        }
    }

    /** The layer as DL4J's LSTM, or null with the reason in {@link #problems}. */
    private LSTM checkLstm(org.deeplearning4j.nn.conf.layers.Layer conf, String name, String type) {
        if (conf instanceof GravesLSTM || conf instanceof GravesBidirectionalLSTM) {
            problems.add("DL4J layer '" + name + "' is " + type + ", which has peephole connections that nn.LSTM does "
                    + "not have: use DL4J's LSTM layer");
            return null;
        }
        if (!(conf instanceof LSTM lstm)) {
            problems.add("DL4J layer '" + name + "' is " + type + ", not an LSTM (nor Bidirectional(LSTM))");
            return null;
        }
        checkActivation(lstm.getActivationFn(), ActivationTanH.class, "activation", "tanh", name);
        checkActivation(lstm.getGateActivationFn(), ActivationSigmoid.class, "gate activation", "sigmoid", name);
        return lstm;
    }

    private void checkActivation(IActivation actual, Class<? extends IActivation> expected, String what,
                                 String torchName, String name) {
        if (!expected.isInstance(actual)) {
            problems.add("DL4J layer '" + name + "' has " + what + " " + actual + " but nn.LSTM uses " + torchName
                    + ": build it with " + (what.startsWith("gate") ? "gateActivationFunction" : "activation")
                    + "(Activation." + torchName.toUpperCase(java.util.Locale.ROOT) + ")");
        }
    }

    private static boolean isRecurrent(org.deeplearning4j.nn.conf.layers.Layer conf) {
        return conf instanceof BaseRecurrentLayer || conf instanceof Bidirectional
                || conf instanceof BaseWrapperLayer w && isRecurrent(w.getUnderlying());
    }

    private static List<String> namesOf(List<Layer> layers) {
        return layers.stream().map(l -> l.conf().getLayer().getLayerName()).toList();
    }
}
