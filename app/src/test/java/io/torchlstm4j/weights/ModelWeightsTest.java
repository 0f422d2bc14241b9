package io.torchlstm4j.weights;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static io.torchlstm4j.io.TensorAssertions.assertSameTensor;
import static io.torchlstm4j.io.TensorAssertions.assertSameTensors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** nn.Linear and nn.Embedding on DL4J layers, and a whole model's state_dict by prefix. */
class ModelWeightsTest {

    private static MultiLayerNetwork network(DataType dataType, Layer layer) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().dataType(dataType)
                .list(layer).build());
        net.init();
        return net;
    }

    private static MultiLayerNetwork dense(DataType dataType, int in, int out) {
        return network(dataType, new DenseLayer.Builder().nIn(in).nOut(out).activation(Activation.IDENTITY).build());
    }

    private static MultiLayerNetwork embedding(int num, int dim) {
        return network(DataType.FLOAT, new EmbeddingSequenceLayer.Builder().nIn(num).nOut(dim)
                .activation(Activation.IDENTITY).hasBias(false).build());
    }

    private static Map<String, INDArray> random(ModelWeights weights, DataType dataType, long seed) {
        Map<String, INDArray> sd = new LinkedHashMap<>();
        Nd4j.getRandom().setSeed(seed);
        weights.expectedShapes().forEach((name, shape) -> sd.put(name, Nd4j.randn(dataType, shape)));
        return sd;
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void aDenseLayerHoldingALinearComputesXTimesWeightTransposedPlusBias(DataType dataType) {
        MultiLayerNetwork fc = dense(dataType, 5, 3);
        ModelWeights weights = ModelWeights.builder().linear("fc.", fc.getLayer(0)).build();
        Map<String, INDArray> sd = random(weights, dataType, 1);
        weights.load(sd, "sd");

        INDArray x = Nd4j.randn(dataType, 4, 5);
        INDArray expected = x.mmul(sd.get("fc.weight").transpose()).addiRowVector(sd.get("fc.bias"));
        assertTrue(fc.output(x).equalsWithEps(expected, dataType == DataType.FLOAT ? 1e-6 : 1e-14));
        assertSameTensors(sd, weights.stateDict());
    }

    @Test
    void anEmbeddingLayerHoldingAnEmbeddingLooksUpRowsOfTheWeight() {
        MultiLayerNetwork embed = embedding(7, 4);
        ModelWeights weights = ModelWeights.builder().embedding("embed.", embed.getLayer(0)).build();
        Map<String, INDArray> sd = random(weights, DataType.FLOAT, 2);
        weights.load(sd, "sd");

        INDArray out = embed.output(Nd4j.createFromArray(new float[][] {{6, 0, 3}}));   // [N=1, dim, L=3] (NCW)
        int[] indices = {6, 0, 3};
        for (int t = 0; t < indices.length; t++) {
            assertEquals(sd.get("embed.weight").getRow(indices[t]),
                    out.get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.point(t)));
        }
        assertSameTensors(sd, weights.stateDict());
    }

    @Test
    void aWholeModelsStateDictLoadsAndSavesUnderItsPrefixesInStateDictOrder() {
        MultiLayerNetwork embed = embedding(9, 4);
        TorchLstm rnn = TorchLstm.create(LstmConfig.builder(4, 6).numLayers(2).build(), Engine.FAST, DataType.FLOAT, 0);
        MultiLayerNetwork fc = dense(DataType.FLOAT, 6, 9);
        ModelWeights weights = ModelWeights.builder().embedding("embed.", embed.getLayer(0)).lstm("rnn.", rnn)
                .linear("fc.", fc.getLayer(0)).build();
        Map<String, INDArray> sd = random(weights, DataType.FLOAT, 3);
        weights.load(sd, "sd");

        assertEquals(List.of("embed.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
                "rnn.bias_hh_l0", "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
                "fc.weight", "fc.bias"), List.copyOf(weights.stateDict().keySet()));
        assertSameTensors(sd, weights.stateDict());
        assertSameTensor("rnn.weight_hh_l1", sd.get("rnn.weight_hh_l1"), rnn.stateDict().get("weight_hh_l1"));
        assertEquals("Model(embed: Embedding(9, 4), rnn: LSTM(4, 6, num_layers=2), fc: Linear(in_features=6, "
                + "out_features=9, bias=True))", weights.toString());
    }

    @Test
    void everyProblemOfTheWholeStateDictIsNamedAtOnceAndNothingChanges() {
        MultiLayerNetwork embed = embedding(9, 4);
        MultiLayerNetwork fc = dense(DataType.FLOAT, 6, 9);
        ModelWeights weights = ModelWeights.builder().embedding("embed.", embed.getLayer(0))
                .linear("fc.", fc.getLayer(0)).build();
        Map<String, INDArray> before = weights.stateDict();
        Map<String, INDArray> sd = random(weights, DataType.FLOAT, 4);
        sd.remove("fc.bias");
        sd.put("fc.weight", Nd4j.rand(DataType.FLOAT, 9, 7));
        sd.put("embed.weight", sd.get("embed.weight").castTo(DataType.INT));
        sd.put("head.weight", Nd4j.rand(DataType.FLOAT, 2));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> weights.load(sd, "m.npz"));
        assertEquals("Error(s) in loading state_dict from m.npz for Model(embed: Embedding(9, 4), fc: "
                + "Linear(in_features=6, out_features=9, bias=True)):\n"
                + "\tMissing key(s) in state_dict: \"fc.bias\".\n"
                + "\tUnexpected key(s) in state_dict: \"head.weight\".\n"
                + "\tunsupported dtype for embed.weight: INT (FLOAT or DOUBLE expected)\n"
                + "\tsize mismatch for fc.weight: copying a param with shape [9, 7], the shape in the current model "
                + "is [9, 6]", e.getMessage());
        assertSameTensors(before, weights.stateDict());
    }

    @Test
    void layersOfTheWrongKindAreNamedAtOnceByBuild() {
        MultiLayerNetwork embed = embedding(9, 4);
        MultiLayerNetwork fc = dense(DataType.FLOAT, 6, 9);
        MultiLayerNetwork biased = network(DataType.FLOAT, new EmbeddingSequenceLayer.Builder().nIn(3).nOut(2)
                .hasBias(true).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelWeights.builder()
                .linear("fc.", embed.getLayer(0)).embedding("embed.", fc.getLayer(0))
                .embedding("tokens.", biased.getLayer(0)).build());
        assertEquals("the DL4J layers cannot hold the PyTorch model:\n"
                + "\tfc is nn.Linear but DL4J layer 'layer0' (EmbeddingSequenceLayer) is not a DenseLayer or an "
                + "OutputLayer with parameters W and b\n"
                + "\tembed is nn.Embedding but DL4J layer 'layer0' (DenseLayer) is not an EmbeddingLayer or an "
                + "EmbeddingSequenceLayer\n"
                + "\ttokens is nn.Embedding, which has no bias, but DL4J layer 'layer0' (EmbeddingSequenceLayer) has "
                + "one: build it with hasBias(false)", e.getMessage());
    }

    @Test
    void anOutputLayerWithoutBiasIsALinearWithoutBias() {
        MultiLayerNetwork out = network(DataType.FLOAT, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn(3).nOut(2).hasBias(false).activation(Activation.SOFTMAX).build());
        ModelWeights weights = ModelWeights.builder().linear("out.", out.getLayer(0)).build();
        assertEquals(List.of("out.weight"), List.copyOf(weights.expectedShapes().keySet()));
    }

    @Test
    void initLikeTorchDrawsPyTorchsDistributionsDeterministically() {
        MultiLayerNetwork embed = embedding(200, 50);
        MultiLayerNetwork fc = dense(DataType.DOUBLE, 25, 400);
        ModelWeights weights = ModelWeights.builder().embedding("embed.", embed.getLayer(0))
                .linear("fc.", fc.getLayer(0)).build();
        weights.initLikeTorch(7);
        Map<String, INDArray> first = weights.stateDict();
        weights.initLikeTorch(7);
        assertSameTensors(first, weights.stateDict());

        INDArray e = first.get("embed.weight");                      // N(0, 1): 10,000 draws
        assertEquals(0, e.meanNumber().doubleValue(), 0.04);
        assertEquals(1, e.stdNumber().doubleValue(), 0.04);
        for (String name : new String[] {"fc.weight", "fc.bias"}) {  // U(-1/sqrt(25), 1/sqrt(25)) = U(-0.2, 0.2)
            INDArray w = first.get(name);
            assertTrue(w.amaxNumber().doubleValue() <= 0.2 && w.amaxNumber().doubleValue() > 0.19, name);
        }
        assertEquals(DataType.DOUBLE, first.get("fc.weight").dataType());
    }

    @Test
    void linearInitDrawsTheWeightThenTheBiasFromOneGenerator() {
        TorchModule.Linear linear = new TorchModule.Linear(4, 3, true);
        Map<String, INDArray> init = linear.init(DataType.FLOAT, new SplittableRandom(5));
        SplittableRandom random = new SplittableRandom(5);
        assertSameTensor("weight", TorchInit.uniform(random, 0.5, DataType.FLOAT, 3, 4), init.get("weight"));
        assertSameTensor("bias", TorchInit.uniform(random, 0.5, DataType.FLOAT, 3), init.get("bias"));
    }
}
