package io.torchlstm4j.train;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TorchAdam against torch.optim.Adam steps recorded by mnist-demo/tools/make_adam_fixture.py. */
class TorchAdamTest {

    private static JsonNode fixture() throws IOException {
        try (InputStream in = TorchAdamTest.class.getResourceAsStream("adam_steps.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    private static INDArray matrix(JsonNode rows) {
        double[][] values = new double[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            values[i] = new double[rows.get(i).size()];
            for (int j = 0; j < values[i].length; j++) {
                values[i][j] = rows.get(i).get(j).asDouble();
            }
        }
        return Nd4j.create(values);
    }

    /** Runs the fixture's gradients through an updater like DL4J does (param -= update); returns max |param - torch|. */
    private static double maxDeviation(IUpdater updater, JsonNode fx) {
        INDArray param = matrix(fx.get("initial"));
        INDArray state = Nd4j.zeros(DataType.DOUBLE, 1, updater.stateSize(param.length()));
        GradientUpdater<?> u = updater.instantiate(state, true);
        double worst = 0;
        int iteration = 0;
        for (JsonNode step : fx.get("steps")) {
            INDArray update = matrix(step.get("grad")).reshape(1, param.length());
            u.applyUpdater(update, iteration++, 0);
            param.subi(update.reshape(param.shape()));
            INDArray torch = matrix(step.get("param"));
            worst = Math.max(worst, param.sub(torch).amaxNumber().doubleValue() / torch.amaxNumber().doubleValue());
        }
        return worst;
    }

    @Test
    void stepsEqualTorchOptimAdamIncludingWhereEpsMatters() throws IOException {
        JsonNode fx = fixture();
        TorchAdam adam = new TorchAdam(fx.get("lr").asDouble(), fx.get("beta1").asDouble(),
                fx.get("beta2").asDouble(), fx.get("eps").asDouble());
        assertTrue(maxDeviation(adam, fx) < 1e-14, "TorchAdam deviates from torch.optim.Adam");
    }

    @Test
    void dl4jAdamDiffersOnTheSameStepsWhichIsWhyTorchAdamExists() throws IOException {
        JsonNode fx = fixture();
        Adam dl4j = new Adam(fx.get("lr").asDouble(), fx.get("beta1").asDouble(), fx.get("beta2").asDouble(),
                fx.get("eps").asDouble());
        assertTrue(maxDeviation(dl4j, fx) > 1e-4, "the fixture no longer exercises the eps placement");
    }

    @Test
    void survivesDl4jJsonConfiguration() {
        TorchAdam adam = new TorchAdam(0.01, 0.8, 0.99, 1e-6);
        String json = new NeuralNetConfiguration.Builder().updater(adam).list()
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(2).nOut(2).build())
                .build().toJson();
        IUpdater restored = org.deeplearning4j.nn.conf.MultiLayerConfiguration.fromJson(json).getConf(0).getLayer()
                .getUpdaterByParam("W");
        assertEquals(adam, restored);
    }

    @Test
    void rejectsWhatTorchRejectsNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TorchAdam(-1));
        assertEquals("Invalid learning rate: lr=-1.0 (expected lr >= 0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TorchAdam(0.1, 0.9, 1.0, 1e-8));
        assertEquals("Invalid beta parameter at index 1: beta2=1.0 (expected 0 <= beta2 < 1)", e.getMessage());
    }

    @Test
    void withLearningRateKeepsTheOtherHyperparameters() {
        TorchAdam doubled = new TorchAdam(0.01, 0.8, 0.99, 1e-6).withLearningRate(0.02);
        assertEquals(new TorchAdam(0.02, 0.8, 0.99, 1e-6), doubled);
    }
}
