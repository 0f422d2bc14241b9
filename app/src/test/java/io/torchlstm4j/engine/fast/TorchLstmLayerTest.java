package io.torchlstm4j.engine.fast;

import io.torchlstm4j.LstmLayers;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.graph.rnn.LastTimeStepVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.torchlstm4j.engine.fast.FastEngineTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The layer inside DL4J networks: training, serialization, masks, streaming, parameter layout. */
class TorchLstmLayerTest {

    private static final LstmConfig BI = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build();
    private static final LstmConfig UNI = LstmConfig.builder(3, 5).numLayers(2).build();

    /** input -> lstm -> last time step -> softmax output, Adam. */
    private static ComputationGraph classifier(LstmConfig config, DataType type) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(3).dataType(type)
                .updater(new Adam(0.02)).graphBuilder().addInputs("in")
                .setInputTypes(InputType.recurrent(config.inputSize()));
        String lstm = FastLstm.addTo(g, "in", config, "enc_");
        g.addVertex("last", new LastTimeStepVertex("in"), lstm);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                .nIn((long) config.numDirections() * config.outputSize()).nOut(2).build(), "last");
        g.setOutputs("out");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    /** Class 1 when the first feature summed over time is positive: learnable by any working LSTM. */
    private static DataSet signTask(LstmConfig config, int batch, int steps, DataType type) {
        INDArray x = FastEngineTest.Case.random(new Random(9), type, batch, config.inputSize(), steps);
        INDArray sums = x.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all()).sum(1);
        INDArray y = Nd4j.zeros(type, batch, 2);
        for (int n = 0; n < batch; n++) {
            y.putScalar(n, sums.getDouble(n) > 0 ? 1 : 0, 1);
        }
        return new DataSet(x, y);
    }

    @Test
    void trainsWithFitInAComputationGraph() {
        ComputationGraph net = classifier(BI, DataType.FLOAT);
        DataSet data = signTask(BI, 32, 6, DataType.FLOAT);
        net.fit(data);
        double first = net.score();
        for (int i = 0; i < 60; i++) {
            net.fit(data);
        }
        assertTrue(net.score() < 0.5 * first, "score went from " + first + " to " + net.score());
    }

    @Test
    void passesDl4jsGradientCheckWithMasksProjectionsAndASecondLstm() {
        LstmConfig first = LstmConfig.builder(3, 4).bidirectional(true).projSize(2).build();
        LstmConfig second = LstmConfig.builder(4, 3).build();
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(5)
                .dataType(DataType.DOUBLE).updater(new org.nd4j.linalg.learning.config.NoOp()).graphBuilder()
                .addInputs("in").setInputTypes(InputType.recurrent(3));
        String a = FastLstm.addTo(g, "in", first, "a_");
        String b = FastLstm.addTo(g, a, second, "b_");
        g.addVertex("last", new LastTimeStepVertex("in"), b);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).activation(Activation.SOFTMAX)
                .nIn(3).nOut(2).build(), "last");
        g.setOutputs("out");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        DataSet data = signTask(first, 3, 4, DataType.DOUBLE);
        INDArray mask = Nd4j.ones(DataType.DOUBLE, 3, 4);
        mask.get(NDArrayIndex.point(0), NDArrayIndex.interval(2, 4)).assign(0);
        mask.get(NDArrayIndex.point(2), NDArrayIndex.interval(1, 4)).assign(0);
        DataType defaultType = Nd4j.dataType();
        DataType defaultFloat = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
            assertTrue(org.deeplearning4j.gradientcheck.GradientCheckUtil.checkGradients(
                    new org.deeplearning4j.gradientcheck.GradientCheckUtil.GraphConfig().net(net)
                            .inputs(new INDArray[] {data.getFeatures()}).labels(new INDArray[] {data.getLabels()})
                            .inputMask(new INDArray[] {mask}).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)
                            .subset(true).maxPerParam(2)));
        } finally {
            Nd4j.setDefaultDataTypes(defaultType, defaultFloat);
        }
    }

    @Test
    void modelSerializerRestoresConfigurationParametersAndOutputs(@TempDir Path dir) throws Exception {
        ComputationGraph net = classifier(LstmConfig.builder(3, 4).projSize(2).bidirectional(true).dropout(0.25)
                .numLayers(2).build(), DataType.DOUBLE);
        DataSet data = signTask(BI, 8, 5, DataType.DOUBLE);
        net.fit(data);
        File file = dir.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertEquals(net.getConfiguration().toJson(), restored.getConfiguration().toJson());
        assertEquals(net.params(), restored.params());
        assertEquals(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        assertEquals(net.outputSingle(data.getFeatures()), restored.outputSingle(data.getFeatures()));
        assertTrue(net.getConfiguration().toJson().contains(TorchLstmLayer.class.getName()));
    }

    @Test
    void configurationSurvivesJsonWithItsLstmArguments() {
        LstmConfig config = LstmConfig.builder(7, 6).numLayers(3).projSize(2).bias(false).dropout(0.5)
                .bidirectional(true).build();
        ComputationGraphConfiguration conf = classifier(config, DataType.FLOAT).getConfiguration();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        TorchLstmLayer layer = lstmLayerOf(back.getVertices().get("enc_lstm"));
        assertEquals(config, layer.lstmConfig());
    }

    @Test
    void parametersArePyTorchsAsViewsOfTwoDl4jVariablesWeightsThenBiases() {
        ComputationGraph net = classifier(BI, DataType.DOUBLE);
        TorchLstmLayerImpl layer = (TorchLstmLayerImpl) net.getLayer("enc_lstm");
        List<ParameterKey> expected = ParameterKey.all(BI);
        Map<ParameterKey, INDArray> torch = layer.parameterViews();
        assertEquals(expected, List.copyOf(torch.keySet()));
        expected.forEach(key -> assertEquals(java.util.Arrays.toString(key.shape(BI)),
                java.util.Arrays.toString(torch.get(key).shape()), key.toString()));
        Map<String, INDArray> table = layer.paramTable();
        assertEquals(List.of(TorchLstmParamInitializer.WEIGHTS_KEY, TorchLstmParamInitializer.BIASES_KEY),
                List.copyOf(table.keySet()));
        long weights = expected.stream().filter(key -> !key.kind().isBias())
                .mapToLong(key -> java.util.Arrays.stream(key.shape(BI)).reduce(1, (x, y) -> x * y)).sum();
        assertEquals(weights, table.get("W").length());
        assertEquals(TorchLstmLayer.numParams(BI) - weights, table.get("b").length());
        INDArray flat = layer.params().reshape(layer.params().length());
        for (int i = 0; i < flat.length(); i++) {
            flat.putScalar(i, i);
        }
        INDArray whh = torch.get(new ParameterKey(1, 1, ParameterKey.Kind.WEIGHT_HH));
        assertEquals(0.0, torch.get(new ParameterKey(0, 0, ParameterKey.Kind.WEIGHT_IH)).getDouble(0, 0),
                "W starts with weight_ih_l0");
        assertEquals(weights, torch.get(new ParameterKey(0, 0, ParameterKey.Kind.BIAS_IH)).getDouble(0), 0.0,
                "b follows the last weight");
        assertEquals(whh.getDouble(0, 0) + 5, whh.getDouble(1, 1), "c-order with PyTorch's shape (4H, H) = (16, 4)");
        INDArray w = whh;
        net.params().assign(7);
        assertEquals(7.0, w.getDouble(3, 2));
        double bound = 1 / Math.sqrt(BI.hiddenSize());
        FastLstm.initLikeTorch(net, "enc_", BI, 1);
        assertTrue(layer.params().amaxNumber().doubleValue() <= bound);
        assertTrue(layer.params().amaxNumber().doubleValue() > 0.9 * bound);
    }

    @Test
    void aConfigurationWithoutTheParameterLayoutIsRefusedNotMisread() {
        String json = classifier(UNI, DataType.FLOAT).getConfiguration().toJson();
        String layout = "\"parameterLayout\" : \"" + TorchLstmLayer.PARAMETER_LAYOUT + "\"";
        assertTrue(json.contains(layout), "the configuration records its layout: " + layout);
        String legacy = json.replace(layout + ",", "").replace(",\n" + layout, "").replace(layout, "");
        assertFalse(legacy.contains("parameterLayout"));
        ComputationGraph net = new ComputationGraph(ComputationGraphConfiguration.fromJson(legacy));
        IllegalStateException e = assertThrows(IllegalStateException.class, net::init);
        assertTrue(e.getMessage().contains("parameter layout") && e.getMessage().contains("enc_lstm"), e.getMessage());
    }

    @Test
    void parametersRoundTripAndInitLikeTorchIsSeeded() {
        ComputationGraph a = classifier(UNI, DataType.FLOAT);
        ComputationGraph b = classifier(UNI, DataType.FLOAT);
        FastLstm.initLikeTorch(a, "enc_", UNI, 5);
        FastLstm.initLikeTorch(b, "enc_", UNI, 5);
        assertEquals(FastLstm.parameters(a, "enc_", UNI), FastLstm.parameters(b, "enc_", UNI));
        FastLstm.initLikeTorch(b, "enc_", UNI, 6);
        assertNotEquals(FastLstm.parameters(a, "enc_", UNI), FastLstm.parameters(b, "enc_", UNI));
        FastLstm.loadParameters(b, "enc_", UNI, FastLstm.parameters(a, "enc_", UNI));
        assertEquals(FastLstm.parameters(a, "enc_", UNI), FastLstm.parameters(b, "enc_", UNI));
        assertEquals(ParameterKey.all(UNI), List.copyOf(FastLstm.parameters(a, "enc_", UNI).keySet()));
    }

    @Test
    void helpersRejectAWrongPrefixConfigOrParameters() {
        ComputationGraph net = classifier(UNI, DataType.FLOAT);
        IllegalArgumentException prefix = assertThrows(IllegalArgumentException.class,
                () -> FastLstm.parameters(net, "dec_", UNI));
        assertTrue(prefix.getMessage().contains("'dec_lstm'") && prefix.getMessage().contains("[enc_lstm]"),
                prefix.getMessage());
        IllegalArgumentException config = assertThrows(IllegalArgumentException.class,
                () -> FastLstm.parameters(net, "enc_", BI));
        assertTrue(config.getMessage().contains("holds LSTM(3, 5, num_layers=2)"), config.getMessage());
        Map<ParameterKey, INDArray> before = FastLstm.parameters(net, "enc_", UNI);
        // parameters that break the seam's promise (the caller validates names and shapes) are an internal error
        Map<ParameterKey, INDArray> missing = FastLstm.parameters(net, "enc_", UNI);
        missing.remove(new ParameterKey(1, 0, ParameterKey.Kind.BIAS_HH));
        IllegalStateException keys = assertThrows(IllegalStateException.class,
                () -> FastLstm.loadParameters(net, "enc_", UNI, missing));
        assertTrue(keys.getMessage().contains("BIAS_HH of layer 1"), keys.getMessage());
        Map<ParameterKey, INDArray> misshapen = FastLstm.parameters(net, "enc_", UNI);
        misshapen.put(new ParameterKey(0, 0, ParameterKey.Kind.WEIGHT_IH), Nd4j.zeros(DataType.FLOAT, 20, 4));
        IllegalStateException shape = assertThrows(IllegalStateException.class,
                () -> FastLstm.loadParameters(net, "enc_", UNI, misshapen));
        assertTrue(shape.getMessage().contains("WEIGHT_IH of layer 0") && shape.getMessage().contains("[20, 4]"),
                shape.getMessage());
        assertEquals(before, FastLstm.parameters(net, "enc_", UNI), "a refused load changes nothing");
        // through the API, a state_dict's problems are reported in PyTorch's words, by name
        Map<String, INDArray> bad = LstmLayers.stateDict(net, "enc_", UNI, Engine.FAST);
        bad.remove("bias_hh_l1");
        bad.put("weight_ih_l0", Nd4j.zeros(DataType.FLOAT, 20, 4));
        IllegalArgumentException dict = assertThrows(IllegalArgumentException.class,
                () -> LstmLayers.loadStateDict(net, "enc_", UNI, Engine.FAST, bad));
        assertTrue(dict.getMessage().contains("bias_hh_l1") && dict.getMessage().contains("weight_ih_l0"),
                dict.getMessage());
    }

    @Test
    void layerBackpropWithAMaskEqualsTheEngineWithLengthsInBothFormats() {
        for (RNNFormat format : RNNFormat.values()) {
            FastEngine engine = new FastEngine(BI, DataType.DOUBLE, 4);
            int batch = 3;
            int steps = 5;
            int[] lengths = {2, 5, 1};
            Random r = new Random(1);
            INDArray input = FastEngineTest.Case.random(r, DataType.DOUBLE, steps, batch, BI.inputSize());
            INDArray grad = FastEngineTest.Case.random(r, DataType.DOUBLE, steps, batch, 8);
            INDArray zeros = Nd4j.zeros(DataType.DOUBLE, BI.stateLayers(), batch, BI.outputSize());
            LstmOutput expected = engine.forward(input, zeros, zeros, lengths, true);
            Map<ParameterKey, INDArray> expectedGrads = engine.gradients(input, zeros, zeros, lengths, grad);

            TorchLstmLayerImpl layer = standaloneLayer(BI, format, engine.parameters());
            INDArray mask = Nd4j.zeros(DataType.DOUBLE, batch, steps);
            for (int n = 0; n < batch; n++) {
                mask.get(NDArrayIndex.point(n), NDArrayIndex.interval(0, lengths[n])).assign(1);
            }
            boolean nwc = format == RNNFormat.NWC;
            LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
            layer.setInput(nwc ? input.permute(1, 0, 2) : input.permute(1, 2, 0), mgr);
            layer.setMaskArray(mask);
            INDArray out = layer.activate(true, mgr);
            assertClose(expected.output(), nwc ? out.permute(1, 0, 2) : out.permute(2, 0, 1), 1e-14, format + " out");
            Gradient g = layer.backpropGradient(nwc ? grad.permute(1, 0, 2) : grad.permute(1, 2, 0), mgr).getFirst();
            Map<ParameterKey, INDArray> gradients = TorchLstmParamInitializer.parameterViews(layer.config(),
                    g.gradient());
            expectedGrads.forEach((key, value) -> assertClose(value, gradients.get(key), 1e-14, format + " " + key));
        }
    }

    @Test
    void maskedFitIgnoresWhatIsInThePadding() {
        LstmConfig config = LstmConfig.builder(3, 4).bidirectional(true).build();
        INDArray[] params = new INDArray[2];
        for (int run = 0; run < 2; run++) {
            ComputationGraph net = classifier(config, DataType.DOUBLE);
            DataSet data = signTask(config, 4, 6, DataType.DOUBLE);
            INDArray mask = Nd4j.ones(DataType.DOUBLE, 4, 6);
            mask.get(NDArrayIndex.point(1), NDArrayIndex.interval(2, 6)).assign(0);
            mask.get(NDArrayIndex.point(3), NDArrayIndex.interval(5, 6)).assign(0);
            if (run == 1) {
                data.getFeatures().get(NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.interval(2, 6))
                        .assign(100);
                data.getFeatures().get(NDArrayIndex.point(3), NDArrayIndex.all(), NDArrayIndex.point(5)).assign(-50);
            }
            data.setFeaturesMaskArray(mask);
            net.fit(data);
            params[run] = net.params();
        }
        assertClose(params[0], params[1], 1e-15, "params after a masked step");
    }

    @Test
    void adamMovesBothBiasesByTheSameStepLikePyTorch() {
        ComputationGraph net = classifier(UNI, DataType.DOUBLE);
        Map<ParameterKey, INDArray> before = FastLstm.parameters(net, "enc_", UNI);
        net.fit(signTask(UNI, 8, 4, DataType.DOUBLE));
        Map<ParameterKey, INDArray> after = FastLstm.parameters(net, "enc_", UNI);
        for (int layer = 0; layer < UNI.numLayers(); layer++) {
            ParameterKey biasIh = new ParameterKey(layer, 0, ParameterKey.Kind.BIAS_IH);
            ParameterKey biasHh = new ParameterKey(layer, 0, ParameterKey.Kind.BIAS_HH);
            INDArray ih = after.get(biasIh).sub(before.get(biasIh));
            INDArray hh = after.get(biasHh).sub(before.get(biasHh));
            assertTrue(ih.amaxNumber().doubleValue() > 0);
            assertClose(ih, hh, 1e-15, "bias steps of layer " + layer);
        }
    }

    @Test
    void rnnTimeStepInChunksEqualsOneCallAndCarriesPyTorchShapedState() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(2)
                .dataType(DataType.DOUBLE).list()
                .layer(TorchLstmLayer.of(UNI))
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY)
                        .nIn(UNI.outputSize()).nOut(2).build())
                .setInputType(InputType.recurrent(UNI.inputSize())).build());
        net.init();
        INDArray x = FastEngineTest.Case.random(new Random(4), DataType.DOUBLE, 2, UNI.inputSize(), 7);
        INDArray whole = net.output(x);
        INDArray first = net.rnnTimeStep(x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 3)));
        INDArray second = net.rnnTimeStep(x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(3, 7)));
        assertClose(whole, Nd4j.concat(2, first, second), 1e-14, "streamed output");
        Map<String, INDArray> state = net.rnnGetPreviousState(0);
        assertEquals("[2, 2, 5]", java.util.Arrays.toString(state.get(TorchLstmLayer.STATE_H).shape()));
        assertEquals("[2, 2, 5]", java.util.Arrays.toString(state.get(TorchLstmLayer.STATE_C).shape()));
        net.rnnClearPreviousState();
        assertClose(first, net.rnnTimeStep(x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 3))),
                0, "after clearing the state");
    }

    @Test
    void computationGraphStreamsWhenTheLstmIsItsOutputVertex() {
        FastEngine engine = new FastEngine(UNI, DataType.FLOAT, 6);
        ComputationGraph net = engine.network();
        INDArray x = FastEngineTest.Case.random(new Random(8), DataType.FLOAT, 2, UNI.inputSize(), 5);
        INDArray whole = net.outputSingle(x);
        INDArray first = net.rnnTimeStep(x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 2)))[0];
        INDArray second = net.rnnTimeStep(x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2, 5)))[0];
        assertClose(whole, Nd4j.concat(2, first, second), 1e-6, "streamed output");
    }

    @Test
    void bidirectionalRefusesToStream() {
        TorchLstmLayerImpl layer = standaloneLayer(BI, RNNFormat.NCW,
                new FastEngine(BI, DataType.FLOAT, 1).parameters());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> layer.rnnTimeStep(Nd4j.zeros(DataType.FLOAT, 1, 3, 2), LayerWorkspaceMgr.noWorkspaces()));
        assertTrue(e.getMessage().contains("bidirectional LSTM cannot be run step by step"), e.getMessage());
    }

    @Test
    void trainsInAMultiLayerNetworkWithNwcData() {
        LstmConfig config = LstmConfig.builder(3, 4).projSize(2).build();
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(0.05)).list()
                .layer(new TorchLstmLayer.Builder(config).dataFormat(RNNFormat.NWC).build())
                .layer(new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE).activation(Activation.IDENTITY)
                        .dataFormat(RNNFormat.NWC).nIn(2).nOut(1).build())
                .setInputType(InputType.recurrent(3, RNNFormat.NWC)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray x = FastEngineTest.Case.random(new Random(2), DataType.FLOAT, 8, 6, 3);
        INDArray y = x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 1)).mul(0.5);
        DataSet data = new DataSet(x, y);
        net.fit(data);
        double first = net.score();
        for (int i = 0; i < 80; i++) {
            net.fit(data);
        }
        assertEquals("[8, 6, 1]", java.util.Arrays.toString(net.output(x).shape()));
        assertTrue(net.score() < 0.3 * first, "score went from " + first + " to " + net.score());
    }

    @Test
    void rejectsMasksThatAreNotLengthsAndInputOfTheWrongSize() {
        TorchLstmLayerImpl layer = standaloneLayer(BI, RNNFormat.NCW,
                new FastEngine(BI, DataType.FLOAT, 1).parameters());
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(Nd4j.zeros(DataType.FLOAT, 2, 3, 4), mgr);
        layer.setMaskArray(Nd4j.createFromArray(new float[][] {{1, 1, 1, 1}, {1, 0, 1, 0}}));
        IllegalArgumentException holes = assertThrows(IllegalArgumentException.class, () -> layer.activate(false, mgr));
        assertTrue(holes.getMessage().contains("feature mask row 1 is [1.0, 0.0, 1.0, 0.0]"), holes.getMessage());
        layer.setMaskArray(Nd4j.createFromArray(new float[][] {{1, 1, 1, 1}, {0, 0, 0, 0}}));
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> layer.activate(false, mgr));
        assertTrue(empty.getMessage().contains("feature mask row 1 is all zeros"), empty.getMessage());
        layer.setMaskArray(null);
        layer.setInput(Nd4j.zeros(DataType.FLOAT, 2, 4, 3), mgr);
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> layer.activate(false, mgr));
        assertTrue(size.getMessage().contains("input has shape [2, 4, 3] but NCW [N, H_in, L] with H_in = 3"),
                size.getMessage());
    }

    @Test
    void reusesTheStoredForwardForBackprop() {
        TorchLstmLayerImpl layer = standaloneLayer(UNI, RNNFormat.NCW,
                new FastEngine(UNI, DataType.DOUBLE, 1).parameters());
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray x = FastEngineTest.Case.random(new Random(3), DataType.DOUBLE, 2, 3, 4);
        layer.setInput(x, mgr);
        INDArray out = layer.activate(true, mgr).dup();
        INDArray eps = Nd4j.ones(DataType.DOUBLE, 2, 5, 4);
        INDArray g1 = layer.backpropGradient(eps, mgr).getFirst().gradient().dup();
        layer.activate(false, mgr);
        INDArray g2 = layer.backpropGradient(eps, mgr).getFirst().gradient().dup();
        assertEquals(g1, g2);
        assertSame(x, layer.getInput());
        assertEquals(out, layer.activate(false, mgr));
    }

    @Test
    void withoutInputGradientBackpropReturnsNoEpsilonAndTheSameParameterGradients() {
        Map<ParameterKey, INDArray> params = new FastEngine(BI, DataType.DOUBLE, 3).parameters();
        INDArray x = FastEngineTest.Case.random(new Random(3), DataType.DOUBLE, 2, 3, 4);
        INDArray eps = FastEngineTest.Case.random(new Random(4), DataType.DOUBLE, 2, 8, 4);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        INDArray[] gradients = new INDArray[2];
        for (int i = 0; i < 2; i++) {
            TorchLstmLayerImpl layer = standaloneLayer(new TorchLstmLayer.Builder(BI).inputGradient(i == 0), params);
            layer.setInput(x, mgr);
            layer.activate(true, mgr);
            var result = layer.backpropGradient(eps, mgr);
            assertEquals(i == 0, result.getSecond() != null);
            gradients[i] = result.getFirst().gradient().dup();
        }
        assertEquals(gradients[0], gradients[1]);
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in").setInputTypes(InputType.recurrent(3));
        FastLstm.addTo(g, "in", BI, "a_");
        FastLstm.addTo(g, "a_lstm", LstmConfig.builder(8, 2).build(), "b_");
        g.setOutputs("b_lstm");
        Map<String, org.deeplearning4j.nn.conf.graph.GraphVertex> vertices = g.build().getVertices();
        assertEquals(false, lstmLayerOf(vertices.get("a_lstm")).inputGradient());
        assertEquals(true, lstmLayerOf(vertices.get("b_lstm")).inputGradient());
    }

    private static TorchLstmLayer lstmLayerOf(org.deeplearning4j.nn.conf.graph.GraphVertex vertex) {
        return (TorchLstmLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) vertex).getLayerConf().getLayer();
    }

    /** A layer outside any network, holding the given PyTorch parameters. */
    static TorchLstmLayerImpl standaloneLayer(LstmConfig config, RNNFormat format,
                                              Map<ParameterKey, INDArray> parameters) {
        return standaloneLayer(new TorchLstmLayer.Builder(config).dataFormat(format), parameters);
    }

    static TorchLstmLayerImpl standaloneLayer(TorchLstmLayer.Builder builder, Map<ParameterKey, INDArray> parameters) {
        INDArray first = parameters.values().iterator().next();
        TorchLstmLayer conf = builder.build();
        LstmConfig config = conf.lstmConfig();
        NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().dataType(first.dataType()).layer(conf).build();
        INDArray flat = Nd4j.create(first.dataType(), 1, TorchLstmLayer.numParams(config));
        TorchLstmLayerImpl layer = (TorchLstmLayerImpl) conf.instantiate(nnc, List.of(), 0, flat, true,
                first.dataType());
        parameters.forEach((key, value) -> layer.parameterViews().get(key).assign(value));
        INDArray gradients = Nd4j.create(first.dataType(), 1, TorchLstmLayer.numParams(config));
        layer.setBackpropGradientsViewArray(gradients);
        return layer;
    }
}
