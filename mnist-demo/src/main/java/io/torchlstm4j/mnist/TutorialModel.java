package io.torchlstm4j.mnist;

import io.torchlstm4j.Engine;
import io.torchlstm4j.LstmConfig;
import io.torchlstm4j.LstmLayers;
import io.torchlstm4j.train.TorchAdam;
import io.torchlstm4j.weights.StateDicts;
import io.torchlstm4j.weights.TorchInit;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.rnn.LastTimeStepVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;

/**
 * The tutorial's module on DL4J:
 * <pre>
 * class RNN(nn.Module):
 *     def __init__(self):
 *         self.rnn = nn.LSTM(28, 64, num_layers=2, batch_first=True)
 *         self.out = nn.Linear(64, 10)
 *     def forward(self, x):               # x: (N, 28 steps, 28 pixels)
 *         r_out, _ = self.rnn(x, None)
 *         return self.out(r_out[:, -1, :])
 * </pre>
 * trained with {@code CrossEntropyLoss} and {@code torch.optim.Adam(lr)}.
 *
 * <p>Graph: input (NCW [N, 28 pixels, 28 steps]) -> the adapter's LSTM vertices ({@link LstmLayers}, prefix
 * {@value #RNN_PREFIX}) -> {@link LastTimeStepVertex} -> {@code OutputLayer} (softmax + MCXENT, i.e. nn.Linear
 * followed by CrossEntropyLoss). Every parameter is initialised as PyTorch does: the LSTM by
 * {@link LstmLayers#initLikeTorch}, the head like {@code nn.Linear} (kaiming_uniform(a=sqrt(5)) gives U(-1/sqrt(H),
 * 1/sqrt(H)) for the weight, and the bias draws from the same range).
 *
 * <p>The optimizer is {@link TorchAdam}. PyTorch's LSTM has two biases per layer, b_ih and b_hh, that get the same
 * gradient and the same Adam step, so their sum moves by twice one step. The REFERENCE engine holds their sum in one
 * DL4J bias, so its bias updater is TorchAdam with twice the learning rate: exactly PyTorch's effective update.
 * The FAST engine keeps b_ih and b_hh as two parameters and needs no such correction.
 */
public final class TutorialModel {

    /** Name of the graph's input. */
    public static final String INPUT = "input";
    /** Prefix of the LSTM's vertices; PyTorch's module attribute is {@code rnn}. */
    public static final String RNN_PREFIX = "rnn_";
    /** The classifier head, PyTorch's {@code out}. */
    public static final String OUT = "out";
    private static final String LAST_STEP = "last_step";
    private static final String META_KEY = "torchlstm4j-tutorial-model";

    private final ComputationGraph net;
    private final LstmConfig lstm;
    private final Engine engine;

    private TutorialModel(ComputationGraph net, LstmConfig lstm, Engine engine) {
        this.net = net;
        this.lstm = lstm;
        this.engine = engine;
    }

    /** The tutorial's LSTM configuration for images of {@code cols} pixels per row. */
    public static LstmConfig lstmConfig(int inputSize, int hiddenSize, int numLayers) {
        return LstmConfig.builder(inputSize, hiddenSize).numLayers(numLayers).batchFirst(true).build();
    }

    /** A freshly initialised model (PyTorch's initialisation from {@code seed}), trained with TorchAdam(lr). */
    public static TutorialModel create(LstmConfig lstm, Engine engine, double lr, DataType dataType, long seed) {
        TutorialModel model = new TutorialModel(build(lstm, engine, lr, dataType, seed, true), lstm, engine);
        LstmLayers.initLikeTorch(model.net, RNN_PREFIX, lstm, engine, seed);
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        double bound = 1.0 / Math.sqrt(lstm.hiddenSize());
        model.head().setParam("W", TorchInit.uniform(random, bound, dataType, Images.NUM_CLASSES, lstm.hiddenSize())
                .transpose());
        model.head().setParam("b", TorchInit.uniform(random, bound, dataType, 1, Images.NUM_CLASSES));
        return model;
    }

    /**
     * A model holding the parameters of the tutorial module's {@code state_dict()} ({@code rnn.weight_ih_l0}, ...,
     * {@code out.weight}, {@code out.bias}); the sizes are read from the tensors.
     *
     * @throws IllegalArgumentException naming every missing, unexpected or misshapen tensor
     */
    public static TutorialModel fromStateDict(Map<String, INDArray> stateDict, Engine engine, double lr,
                                              DataType dataType, String source) {
        return fromStateDict(stateDict, engine, lr, dataType, source, true);
    }

    /** {@link #fromStateDict}; {@code torchBiasStep} false leaves out the REFERENCE engine's bias correction (tests show
     *  it is needed). */
    static TutorialModel fromStateDict(Map<String, INDArray> stateDict, Engine engine, double lr, DataType dataType,
                                       String source, boolean torchBiasStep) {
        LstmConfig lstm = configOf(stateDict, source);
        TutorialModel model = new TutorialModel(build(lstm, engine, lr, dataType, 0, torchBiasStep), lstm, engine);
        model.loadStateDict(stateDict, source);
        return model;
    }

    /** Reads a model written by {@link #save}. */
    public static TutorialModel load(Path file) {
        try {
            ComputationGraph net = ModelSerializer.restoreComputationGraph(file.toFile(), true);
            Properties meta = ModelSerializer.getObjectFromFile(file.toFile(), META_KEY);
            LstmConfig lstm = lstmConfig(Integer.parseInt(meta.getProperty("inputSize")),
                    Integer.parseInt(meta.getProperty("hiddenSize")), Integer.parseInt(meta.getProperty("numLayers")));
            return new TutorialModel(net, lstm, Engine.valueOf(meta.getProperty("engine")));
        } catch (IOException | RuntimeException e) {
            throw new DataException("--model " + file + " is not a model saved by this demo's train command: " + e, e);
        }
    }

    /** Writes the DL4J model (with its updater state) and what {@link #load} needs to rebuild this object. */
    public void save(Path file) throws IOException {
        ModelSerializer.writeModel(net, file.toFile(), true);
        Properties meta = new Properties();
        meta.setProperty("inputSize", Integer.toString(lstm.inputSize()));
        meta.setProperty("hiddenSize", Integer.toString(lstm.hiddenSize()));
        meta.setProperty("numLayers", Integer.toString(lstm.numLayers()));
        meta.setProperty("engine", engine.name());
        ModelSerializer.addObjectToFile(file.toFile(), META_KEY, meta);
    }

    private static ComputationGraph build(LstmConfig lstm, Engine engine, double lr, DataType dataType, long seed,
                                          boolean torchBiasStep) {
        TorchAdam adam = new TorchAdam(lr);
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(dataType).updater(adam)
                .graphBuilder().addInputs(INPUT);
        String rnnOut = LstmLayers.addTo(g, INPUT, lstm, engine, RNN_PREFIX);
        if (engine == Engine.REFERENCE && torchBiasStep) {
            doubleBiasLearningRate(g, adam);
        }
        g.addVertex(LAST_STEP, new LastTimeStepVertex(INPUT), rnnOut);
        g.addLayer(OUT, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(lstm.hiddenSize())
                .nOut(Images.NUM_CLASSES).activation(Activation.SOFTMAX).build(), LAST_STEP);
        g.setOutputs(OUT);
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    /** DL4J's one LSTM bias stands for PyTorch's bias_ih + bias_hh: it moves by two Adam steps, as PyTorch's sum. */
    private static void doubleBiasLearningRate(ComputationGraphConfiguration.GraphBuilder g, TorchAdam adam) {
        for (Map.Entry<String, GraphVertex> e : g.getVertices().entrySet()) {
            if (e.getKey().startsWith(RNN_PREFIX) && e.getValue() instanceof LayerVertex v
                    && v.getLayerConf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.LSTM layer) {
                layer.setBiasUpdater(adam.withLearningRate(2 * adam.lr()));
            }
        }
    }

    /**
     * The LSTM configuration a tutorial state_dict was saved from: the {@code rnn.} tensors as {@code nn.LSTM}'s
     * ({@link StateDicts#inferConfig}), batch_first as in the tutorial.
     *
     * @throws IllegalArgumentException when the tensors under {@code rnn.} are not a consistent nn.LSTM state_dict
     */
    public static LstmConfig configOf(Map<String, INDArray> stateDict, String source) {
        Map<String, INDArray> rnn = new LinkedHashMap<>();
        stateDict.forEach((k, v) -> {
            if (k.startsWith("rnn.")) rnn.put(k.substring(4), v);
        });
        if (rnn.isEmpty()) {
            throw new IllegalArgumentException(source + " is not a state_dict of the tutorial's RNN module: no key "
                    + "starts with rnn. (expected rnn.weight_ih_l0, ..., out.weight, out.bias), found " + stateDict.keySet());
        }
        try {
            return StateDicts.inferConfig(rnn, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " (keys under rnn.): " + e.getMessage(), e);
        }
    }

    /** Replaces every parameter with the tutorial module's state_dict values. */
    public void loadStateDict(Map<String, INDArray> stateDict, String source) {
        Map<String, INDArray> rnn = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : stateDict.entrySet()) {
            if (e.getKey().startsWith("rnn.")) {
                rnn.put(e.getKey().substring(4), e.getValue());
            } else if (!e.getKey().equals("out.weight") && !e.getKey().equals("out.bias")) {
                problems.add("unexpected key " + e.getKey());
            }
        }
        long[] weightShape = {Images.NUM_CLASSES, lstm.hiddenSize()};
        long[] biasShape = {Images.NUM_CLASSES};
        INDArray weight = stateDict.get("out.weight");
        INDArray bias = stateDict.get("out.bias");
        if (weight == null || !Arrays.equals(weight.shape(), weightShape)) {
            problems.add("out.weight has shape " + (weight == null ? "(missing)" : Arrays.toString(weight.shape()))
                    + " but (10, hidden_size) = " + Arrays.toString(weightShape) + " was expected");
        }
        if (bias == null || !Arrays.equals(bias.shape(), biasShape)) {
            problems.add("out.bias has shape " + (bias == null ? "(missing)" : Arrays.toString(bias.shape()))
                    + " but (10,) = " + Arrays.toString(biasShape) + " was expected");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(source + ": " + String.join("; ", problems));
        }
        try {
            LstmLayers.loadStateDict(net, RNN_PREFIX, lstm, engine, rnn);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " (keys under rnn.): " + e.getMessage(), e);
        }
        DataType dt = net.getConfiguration().getDataType();
        head().setParam("W", weight.castTo(dt).transpose().dup());
        head().setParam("b", bias.castTo(dt).reshape(1, Images.NUM_CLASSES));
    }

    /** All parameters under the tutorial module's names: {@code rnn.weight_ih_l0}, ..., {@code out.weight}, {@code out.bias}. */
    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> sd = new LinkedHashMap<>();
        LstmLayers.stateDict(net, RNN_PREFIX, lstm, engine).forEach((k, v) -> sd.put("rnn." + k, v));
        sd.put("out.weight", head().getParam("W").transpose().dup());
        sd.put("out.bias", head().getParam("b").reshape(Images.NUM_CLASSES).dup());
        return sd;
    }

    private org.deeplearning4j.nn.api.Layer head() {
        return net.getLayer(OUT);
    }

    /** One optimizer step on a batch; returns the batch's mean cross-entropy before the step (PyTorch's loss). */
    public double fit(INDArray features, INDArray oneHotLabels) {
        net.fit(new DataSet(features, oneHotLabels));
        return net.score();
    }

    /** Class probabilities [N, 10] (softmax of PyTorch's logits) for NCW features [N, cols, rows]. */
    public INDArray probabilities(INDArray features) {
        return net.outputSingle(false, features);
    }

    public ComputationGraph network() {
        return net;
    }

    public LstmConfig lstmConfig() {
        return lstm;
    }

    public Engine engine() {
        return engine;
    }

    public DataType dataType() {
        return net.getConfiguration().getDataType();
    }
}
