package io.torchlstm4j.weights;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.torchlstm4j.io.TensorAssertions.assertSameTensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PyTorch LSTM state_dicts on networks made of DL4J's own LSTM and Bidirectional(LSTM) layers. */
class Dl4jLstmsTest {

    @TempDir
    Path dir;

    static LSTM lstm(int in, int out) {
        return new LSTM.Builder().nIn(in).nOut(out).activation(Activation.TANH).build();
    }

    static Bidirectional bi(int in, int out) {
        return new Bidirectional(Bidirectional.Mode.CONCAT, lstm(in, out));
    }

    static MultiLayerNetwork network(DataType dataType, Layer... layers) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(dataType)
                .list(layers).build());
        net.init();
        return net;
    }

    /** The tutorial's nn.LSTM(10, 20, num_layers=2, bidirectional=True) as DL4J layers, with a head after them. */
    static MultiLayerNetwork tutorial(DataType dataType) {
        return network(dataType, bi(10, 20), bi(40, 20), new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE)
                .nIn(40).nOut(3).activation(Activation.IDENTITY).build());
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void bidirectionalLayersHoldingAPyTorchStateDictComputeWhatTheAdapterComputes(DataType dataType) {
        LstmConfig config = LstmConfig.builder(10, 20).numLayers(2).bidirectional(true).build();
        TorchLstm adapter = TorchLstm.create(config, Engine.FAST, dataType, 3).eval();
        MultiLayerNetwork net = tutorial(dataType);
        Dl4jLstms layers = Dl4jLstms.of(net);
        assertEquals(config, layers.config());
        layers.loadStateDict(adapter.stateDict(), "adapter");

        INDArray input = Nd4j.randn(dataType, 5, 3, 10);                                  // (L, N, H_in)
        INDArray expected = adapter.forward(input).output().permute(1, 2, 0);           // NCW [N, 2H, L]
        INDArray actual = net.feedForwardToLayer(1, input.permute(1, 2, 0).dup(), false).get(2);
        double atol = dataType == DataType.FLOAT ? 1e-5 : 1e-10;
        assertTrue(actual.equalsWithEps(expected, atol), () -> "max |diff| " + actual.sub(expected).amaxNumber());
    }

    @Test
    void readingBackGivesTheWeightsAndTheBiasSumAsBiasIhWithZeroBiasHh() {
        LstmConfig config = LstmConfig.builder(10, 20).numLayers(2).bidirectional(true).build();
        Map<String, INDArray> torch = TorchInit.lstmStateDict(config, DataType.DOUBLE, 4);
        Dl4jLstms layers = Dl4jLstms.of(tutorial(DataType.DOUBLE));
        layers.loadStateDict(torch, "sd");
        Map<String, INDArray> back = layers.stateDict();

        assertEquals(List.copyOf(torch.keySet()), List.copyOf(back.keySet()));
        for (int k = 0; k < 2; k++) {
            for (int d = 0; d < 2; d++) {
                for (String name : new String[] {TorchParameterNames.weightIh(k, d), TorchParameterNames.weightHh(k, d)}) {
                    assertSameTensor(name, torch.get(name), back.get(name));
                }
                String ih = TorchParameterNames.biasIh(k, d);
                String hh = TorchParameterNames.biasHh(k, d);
                assertSameTensor(ih, torch.get(ih).add(torch.get(hh)), back.get(ih));
                assertEquals(0, back.get(hh).amaxNumber().doubleValue());
            }
        }
    }

    @Test
    void aComputationGraphSavedWithModelSerializerLoadsByLayerName() throws IOException {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().graphBuilder().addInputs("in")
                .addLayer("encoder", lstm(4, 6), "in").addLayer("decoder", lstm(6, 6), "encoder")
                .addLayer("out", new RnnOutputLayer.Builder().nIn(6).nOut(2).activation(Activation.IDENTITY)
                        .lossFunction(LossFunctions.LossFunction.MSE).build(), "decoder")
                .setOutputs("out").build();
        ComputationGraph built = new ComputationGraph(conf);
        built.init();
        Path file = dir.resolve("graph.zip");
        ModelSerializer.writeModel(built, file.toFile(), false);
        ComputationGraph net = ModelSerializer.restoreComputationGraph(file.toFile(), false);

        Dl4jLstms layers = Dl4jLstms.of(net);
        assertEquals(List.of("encoder", "decoder"), layers.names());
        assertEquals(LstmConfig.builder(4, 6).numLayers(2).build(), layers.config());
        Map<String, INDArray> torch = TorchInit.lstmStateDict(layers.config(), DataType.FLOAT, 5);
        Dl4jLstms.of(net, "encoder", "decoder").loadStateDict(torch, "sd");
        assertSameTensor("weight_hh_l1", torch.get("weight_hh_l1"), layers.stateDict().get("weight_hh_l1"));
    }

    @Test
    void everyLayerThatCannotHoldAnNnLstmIsNamedAtOnce() {
        MultiLayerNetwork net = network(DataType.FLOAT, bi(4, 5),
                new GravesLSTM.Builder().nIn(10).nOut(5).activation(Activation.TANH).build(),
                new SimpleRnn.Builder().nIn(10).nOut(5).build(),
                new LSTM.Builder().nIn(10).nOut(5).activation(Activation.RELU)
                        .gateActivationFunction(Activation.HARDSIGMOID).build(),
                new Bidirectional(Bidirectional.Mode.ADD, lstm(10, 5)), lstm(10, 7));
        Dl4jLstms layers = Dl4jLstms.of(net);
        assertEquals(List.of(
                "DL4J layer 'layer1' is GravesLSTM, which has peephole connections that nn.LSTM does not have: use "
                        + "DL4J's LSTM layer",
                "DL4J layer 'layer2' is SimpleRnn, not an LSTM (nor Bidirectional(LSTM))",
                "DL4J layer 'layer3' has activation relu but nn.LSTM uses tanh: build it with activation(Activation.TANH)",
                "DL4J layer 'layer3' has gate activation hardsigmoid but nn.LSTM uses sigmoid: build it with "
                        + "gateActivationFunction(Activation.SIGMOID)",
                "DL4J layer 'layer3' (layer 3) has 1 direction(s) but layer 0 has 2: every layer of an nn.LSTM has the same",
                "DL4J layer 'layer4' is Bidirectional(ADD, LSTM), but nn.LSTM concatenates the two directions "
                        + "[forward | backward]: Bidirectional.Mode.CONCAT was expected",
                "DL4J layer 'layer5' (layer 5) has 1 direction(s) but layer 0 has 2: every layer of an nn.LSTM has the same",
                "DL4J layer 'layer5' (layer 5) has nOut 7 but layer 0 has 5: nn.LSTM has one hidden_size"),
                layers.problems());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, layers::config);
        assertTrue(e.getMessage().contains("GravesLSTM") && e.getMessage().contains("SimpleRnn"), e.getMessage());
    }

    @Test
    void everyMismatchWithTheStateDictIsNamedAtOnceAndNothingChanges() {
        MultiLayerNetwork net = network(DataType.FLOAT, bi(10, 20), bi(40, 20));
        Dl4jLstms layers = Dl4jLstms.of(net);
        Map<String, INDArray> before = layers.stateDict();
        // three unidirectional layers of another hidden size
        Map<String, INDArray> torch = TorchInit.lstmStateDict(LstmConfig.builder(10, 16).numLayers(3).build(),
                DataType.FLOAT, 6);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> layers.loadStateDict(torch, "model.pt"));
        String m = e.getMessage();
        assertTrue(m.startsWith("Error(s) in loading state_dict from model.pt for the DL4J layers [layer0, layer1] "
                + "holding LSTM(10, 20, num_layers=2, bidirectional=True):\n"), m);
        for (String part : new String[] {
                "the state_dict has 3 LSTM layer(s) (weight_ih_l0 .. weight_ih_l2) but the DL4J network has 2: "
                        + "[layer0, layer1]",
                "layer 0: DL4J layer 'layer0' is Bidirectional but the state_dict has no backward direction "
                        + "(no weight_ih_l0_reverse)",
                "layer 1: DL4J layer 'layer1' is Bidirectional",
                "Missing key(s) in state_dict: \"weight_ih_l0_reverse\"",
                "Unexpected key(s) in state_dict: \"weight_ih_l2\"",
                "size mismatch for weight_ih_l0: copying a param with shape [64, 10], the shape in the current "
                        + "model is [80, 10]"}) {
            assertTrue(m.contains(part), () -> "'" + part + "' in:\n" + m);
        }
        before.forEach((name, tensor) -> assertSameTensor(name, tensor, layers.stateDict().get(name)));
    }

    @Test
    void aBidirectionalStateDictOnPlainLstmLayersSaysToWrapThem() {
        Dl4jLstms layers = Dl4jLstms.of(network(DataType.FLOAT, lstm(10, 20)));
        Map<String, INDArray> torch = TorchInit.lstmStateDict(
                LstmConfig.builder(10, 20).bidirectional(true).build(), DataType.FLOAT, 7);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> layers.loadStateDict(torch, "sd"));
        assertTrue(e.getMessage().contains("layer 0: the state_dict has a backward direction (weight_ih_l0_reverse) "
                + "but DL4J layer 'layer0' is a plain LSTM with one direction: wrap it in "
                + "Bidirectional(Mode.CONCAT, LSTM)"), e.getMessage());
    }

    @Test
    void aStateDictWithoutBiasLoadsAsZeroBias() {
        Dl4jLstms layers = Dl4jLstms.of(network(DataType.FLOAT, lstm(3, 4)));
        layers.loadStateDict(TorchInit.lstmStateDict(LstmConfig.builder(3, 4).bias(false).build(), DataType.FLOAT, 8),
                "sd");
        assertEquals(0, layers.stateDict().get("bias_ih_l0").amaxNumber().doubleValue());
    }
}
