package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.function.Executable;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.torchlstm4j.weights.TorchParameterNames.biasHh;
import static io.torchlstm4j.weights.TorchParameterNames.biasIh;
import static io.torchlstm4j.weights.TorchParameterNames.weightHh;
import static io.torchlstm4j.weights.TorchParameterNames.weightHr;
import static io.torchlstm4j.weights.TorchParameterNames.weightIh;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LSTM's vertices inside an ordinary DL4J graph train: one {@code fit} step with an MSE loss on top changes the
 * weights of every layer and direction and lowers the loss.
 */
class TrainingTest {

    private static final String PREFIX = "lstm_";

    static List<Object[]> cases() {
        List<LstmConfig> configs = List.of(
                LstmConfig.builder(3, 4).numLayers(2).build(),
                LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build(),
                LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).bias(false).build());
        List<Object[]> cases = new ArrayList<>();
        for (Engine engine : Engine.values()) {
            for (LstmConfig c : configs) {
                cases.add(new Object[] {c, engine});
            }
        }
        // projections: the fast engine only (the reference engine's stock layers cannot express them)
        cases.add(new Object[] {LstmConfig.builder(3, 5).projSize(2).numLayers(2).bidirectional(true).build(),
                Engine.FAST});
        return cases;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void oneFitStepChangesEveryWeightAndLowersTheLoss(LstmConfig c, Engine engine) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(5).dataType(DataType.DOUBLE).updater(new Sgd(0.05)).graphBuilder().addInputs("in");
        String lstmOut = LstmLayers.addTo(g, "in", c, engine, PREFIX);
        g.addLayer("loss", new RnnLossLayer.Builder(LossFunctions.LossFunction.MSE)
                .activation(Activation.IDENTITY).build(), lstmOut).setOutputs("loss");
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        LstmLayers.initLikeTorch(net, PREFIX, c, engine, 9L);

        Nd4j.getRandom().setSeed(13);
        int batch = 3;
        int seqLen = 5;
        DataSet data = new DataSet(Nd4j.randn(DataType.DOUBLE, batch, c.inputSize(), seqLen),
                Nd4j.randn(DataType.DOUBLE, batch, (long) c.numDirections() * c.outputSize(), seqLen));
        Map<String, INDArray> before = copy(LstmLayers.stateDict(net, PREFIX, c, engine));
        double lossBefore = net.score(data);

        net.fit(data);

        Map<String, INDArray> after = LstmLayers.stateDict(net, PREFIX, c, engine);
        double lossAfter = net.score(data);
        List<Executable> checks = new ArrayList<>();
        checks.add(() -> assertTrue(lossAfter < lossBefore,
                c + " on " + engine + ": loss " + lossBefore + " -> " + lossAfter + " did not go down"));
        for (int layer = 0; layer < c.numLayers(); layer++) {
            for (int dir = 0; dir < c.numDirections(); dir++) {
                List<String> names = new ArrayList<>(List.of(weightIh(layer, dir), weightHh(layer, dir)));
                if (c.projSize() > 0) {
                    names.add(weightHr(layer, dir));
                }
                for (String name : names) {
                    checks.add(() -> assertChanged(c + " on " + engine, name, before.get(name), after.get(name)));
                }
                if (c.bias()) {
                    // an export may split the one trained DL4J bias between bias_ih and bias_hh: their sum moves
                    String ih = biasIh(layer, dir);
                    String hh = biasHh(layer, dir);
                    checks.add(() -> assertChanged(c + " on " + engine, ih + " + " + hh,
                            before.get(ih).add(before.get(hh)), after.get(ih).add(after.get(hh))));
                }
            }
        }
        assertAll(checks);
    }

    private static void assertChanged(String context, String name, INDArray before, INDArray after) {
        double change = before.castTo(DataType.DOUBLE).sub(after.castTo(DataType.DOUBLE)).norm1Number().doubleValue();
        assertTrue(change > 0, context + ": " + name + " did not change in one training step");
    }

    private static Map<String, INDArray> copy(Map<String, INDArray> params) {
        Map<String, INDArray> copy = new LinkedHashMap<>();
        params.forEach((k, v) -> copy.put(k, v.dup()));
        return copy;
    }
}
