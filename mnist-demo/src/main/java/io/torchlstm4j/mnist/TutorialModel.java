package io.torchlstm4j.mnist;

import io.torchlstm4j.LstmLayers;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.train.TorchAdam;
import io.torchlstm4j.weights.FeedForwardMapping;
import io.torchlstm4j.weights.ModelWeights;
import io.torchlstm4j.weights.StateDicts;
import io.torchlstm4j.weights.TorchModule;
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
 * {@link LstmLayers#initLikeTorch}, the head like {@code nn.Linear} ({@link TorchModule.Linear#init}). The library's
 * {@link ModelWeights} moves the whole state_dict in and out.
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
        TorchModule.Linear head = new TorchModule.Linear(lstm.hiddenSize(), Images.NUM_CLASSES, true);
        FeedForwardMapping.load(head, model.head(), head.init(dataType, new SplittableRandom(seed ^ 0x5DEECE66DL)));
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
        Map<String, INDArray> rnn = StateDicts.under("rnn.", stateDict);
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

    /**
     * Replaces every parameter with the tutorial module's state_dict values.
     *
     * @throws IllegalArgumentException naming every missing, unexpected or misshapen tensor, before anything changes
     */
    public void loadStateDict(Map<String, INDArray> stateDict, String source) {
        weights().load(stateDict, source);
    }

    /** All parameters under the tutorial module's names: {@code rnn.weight_ih_l0}, ..., {@code out.weight}, {@code out.bias}. */
    public Map<String, INDArray> stateDict() {
        return weights().stateDict();
    }

    /** The tutorial module's state_dict on this graph: {@code rnn.} on the LSTM vertices, {@code out.} on the head. */
    private ModelWeights weights() {
        return ModelWeights.builder().lstm("rnn.", LstmLayers.module(net, RNN_PREFIX, lstm, engine))
                .linear("out.", head()).build();
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
