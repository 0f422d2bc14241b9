package io.torchlstm4j.engine.fast;

import io.torchlstm4j.LstmLayers;
import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A call after the parameters changed computes with the new parameters only: the kernel keeps working arrays between
 * calls (the bias sum among them), and a call after {@code loadStateDict} or after a DL4J {@code fit} step gives, bit
 * for bit, what a fresh instance with those parameters gives.
 */
class ParameterChangesTest {

    static List<Object[]> cases() {
        List<Object[]> cases = new ArrayList<>();
        for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
            cases.add(new Object[] {LstmConfig.builder(5, 8).numLayers(2).build(), type});
            cases.add(new Object[] {LstmConfig.builder(5, 8).bidirectional(true).build(), type});
            cases.add(new Object[] {LstmConfig.builder(5, 8).numLayers(2).projSize(3).build(), type});
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aCallAfterLoadStateDictEqualsAFreshInstanceWithTheNewParameters(LstmConfig config, DataType type) {
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, type, 3).eval();
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(type, 1, 2, config.inputSize());
        LstmState state = lstm.forward(Nd4j.randn(type, 3, 2, config.inputSize())).state();
        LstmOutput before = lstm.forward(x, state);

        // only the biases change: what a cached bias sum would miss
        Map<String, INDArray> biasesChanged = copy(lstm.stateDict());
        biasesChanged.forEach((name, value) -> {
            if (name.startsWith("bias_")) {
                value.addi(name.startsWith("bias_ih") ? 0.25 : -0.125);
            }
        });
        lstm.loadStateDict(biasesChanged);
        LstmOutput afterBiases = lstm.forward(x, state);
        assertSame(fresh(config, biasesChanged).forward(x, state), afterBiases, "after new biases");
        assertDiffers(before, afterBiases, "new biases");

        // then every parameter changes
        Map<String, INDArray> other = copy(TorchLstm.create(config, Engine.FAST, type, 4).stateDict());
        lstm.loadStateDict(other);
        assertSame(fresh(config, other).forward(x, state), lstm.forward(x, state), "after a new state_dict");
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void anOutputAfterAFitStepEqualsAFreshNetworkWithTheTrainedParameters(LstmConfig config, DataType type) {
        ComputationGraph net = network(config, type);
        LstmLayers.initLikeTorch(net, "lstm_", config, Engine.FAST, 9L);
        Nd4j.getRandom().setSeed(13);
        INDArray x = Nd4j.randn(type, 3, config.inputSize(), 4);
        DataSet data = new DataSet(x, Nd4j.randn(type, 3, (long) config.numDirections() * config.outputSize(), 4));
        INDArray before = net.outputSingle(x).dup();
        INDArray biasesBefore = biases(net, config).dup();

        net.fit(data);

        INDArray after = net.outputSingle(x);
        ComputationGraph fresh = network(config, type);
        fresh.setParams(net.params().dup());
        assertSameArray(fresh.outputSingle(x), after, "output after a fit step");
        assertFalse(Arrays.equals(values(biasesBefore), values(biases(net, config))),
                "the fit step did not change the biases, so it shows nothing about their sum");
        assertFalse(Arrays.equals(values(before), values(after)), "the fit step did not change the output");
    }

    private static ComputationGraph network(LstmConfig config, DataType type) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(5).dataType(type).updater(new Sgd(0.5)).graphBuilder().addInputs("in");
        String out = LstmLayers.addTo(g, "in", config, Engine.FAST, "lstm_");
        g.addLayer("loss", new RnnLossLayer.Builder(LossFunctions.LossFunction.MSE)
                .activation(Activation.IDENTITY).build(), out).setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    /** Every bias of the network's LSTM, concatenated. */
    private static INDArray biases(ComputationGraph net, LstmConfig config) {
        List<INDArray> biases = new ArrayList<>();
        LstmLayers.stateDict(net, "lstm_", config, Engine.FAST).forEach((name, value) -> {
            if (name.startsWith("bias_")) {
                biases.add(value.reshape(value.length()));
            }
        });
        return Nd4j.concat(0, biases.toArray(new INDArray[0]));
    }

    private static TorchLstm fresh(LstmConfig config, Map<String, INDArray> stateDict) {
        return TorchLstm.fromStateDict(config, Engine.FAST, copy(stateDict)).eval();
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> stateDict) {
        Map<String, INDArray> copy = new LinkedHashMap<>();
        stateDict.forEach((k, v) -> copy.put(k, v.dup()));
        return copy;
    }

    private static void assertSame(LstmOutput expected, LstmOutput actual, String context) {
        assertSameArray(expected.output(), actual.output(), "output " + context);
        assertSameArray(expected.hN(), actual.hN(), "h_n " + context);
        assertSameArray(expected.cN(), actual.cN(), "c_n " + context);
    }

    private static void assertDiffers(LstmOutput before, LstmOutput after, String change) {
        assertFalse(Arrays.equals(values(before.output()), values(after.output())),
                "the output did not change with " + change + ", so the check shows nothing");
    }

    /** Same shape and the same bits (assertArrayEquals on doubles compares bit patterns, -0 against 0 included). */
    private static void assertSameArray(INDArray expected, INDArray actual, String context) {
        assertArrayEquals(expected.shape(), actual.shape(), context + ": shape");
        assertArrayEquals(values(expected), values(actual), context);
    }

    private static double[] values(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }
}
