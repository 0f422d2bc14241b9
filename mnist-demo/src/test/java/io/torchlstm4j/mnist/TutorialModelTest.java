package io.torchlstm4j.mnist;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.train.TorchAdam;
import io.torchlstm4j.weights.TorchInit;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TutorialModelTest {

    private static final LstmConfig SMALL = TutorialModel.lstmConfig(28, 16, 2);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Engine.class)
    void everyParameterIsInitialisedFromPytorchsUniformRange(Engine engine) {
        Map<String, INDArray> sd = TutorialModel.create(SMALL, engine, 0.01, DataType.FLOAT, 5).stateDict();
        double bound = 1 / Math.sqrt(16);
        for (String name : new String[]{"rnn.weight_ih_l0", "rnn.weight_hh_l1", "out.weight", "out.bias"}) {
            INDArray p = sd.get(name);
            assertTrue(p.amaxNumber().doubleValue() <= bound, name + " exceeds 1/sqrt(H)");
            // U(-b, b) has standard deviation b / sqrt(3) = 0.577 b
            double std = p.stdNumber().doubleValue();
            assertTrue(std > 0.4 * bound && std < 0.75 * bound, name + " std " + std + " is not U(-1/sqrt(H), 1/sqrt(H))'s");
        }
        assertEquals(java.util.List.of(10L, 16L), java.util.Arrays.stream(sd.get("out.weight").shape()).boxed().toList());
    }

    @Test
    void theHeadIsDrawnLikeNnLinearWeightThenBiasFromItsOwnGenerator() {
        Map<String, INDArray> sd = TutorialModel.create(SMALL, Engine.FAST, 0.01, DataType.FLOAT, 5).stateDict();
        SplittableRandom random = new SplittableRandom(5 ^ 0x5DEECE66DL);
        INDArray weight = TorchInit.uniform(random, 1 / Math.sqrt(16), DataType.FLOAT, 10, 16);
        INDArray bias = TorchInit.uniform(random, 1 / Math.sqrt(16), DataType.FLOAT, 10);
        assertArrayEquals(weight.ravel().toFloatVector(), sd.get("out.weight").ravel().toFloatVector());
        assertArrayEquals(bias.toFloatVector(), sd.get("out.bias").toFloatVector());
    }

    @Test
    void theReferenceEnginesSingleLstmBiasStepsWithTwiceTheLearningRateAndTheHeadDoesNot() {
        TutorialModel model = TutorialModel.create(SMALL, Engine.REFERENCE, 0.01, DataType.FLOAT, 5);
        for (String layer : new String[]{"rnn_l0", "rnn_l1"}) {
            BaseLayer conf = (BaseLayer) model.network().getLayer(layer).conf().getLayer();
            assertEquals(new TorchAdam(0.02), conf.getUpdaterByParam("b"), layer + " bias");
            assertEquals(new TorchAdam(0.01), conf.getUpdaterByParam("W"), layer + " W");
            assertEquals(new TorchAdam(0.01), conf.getUpdaterByParam("RW"), layer + " RW");
        }
        BaseLayer head = (BaseLayer) model.network().getLayer(TutorialModel.OUT).conf().getLayer();
        assertEquals(new TorchAdam(0.01), head.getUpdaterByParam("b"));
    }

    @Test
    void theFastEngineKeepsBothPytorchBiasesAndStepsEveryParameterWithTheLearningRate() {
        TutorialModel model = TutorialModel.create(SMALL, Engine.FAST, 0.01, DataType.FLOAT, 5);
        org.deeplearning4j.nn.api.Layer lstm = model.network().getLayer("rnn_lstm");
        Map<String, INDArray> sd = model.stateDict();
        assertTrue(sd.containsKey("rnn.bias_ih_l0") && sd.containsKey("rnn.bias_hh_l0"));
        assertNotEquals(sd.get("rnn.bias_ih_l0"), sd.get("rnn.bias_hh_l0"));
        assertEquals(java.util.List.of("W", "b"), java.util.List.copyOf(lstm.paramTable().keySet()));
        for (String key : lstm.paramTable().keySet()) {
            assertEquals(new TorchAdam(0.01), lstm.conf().getLayer().getUpdaterByParam(key), key);
        }
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void stateDictRoundTripGivesTheSameOutputs(Engine engine) {
        TutorialModel model = TutorialModel.create(SMALL, engine, 0.01, DataType.FLOAT, 5);
        TutorialModel copy = TutorialModel.fromStateDict(model.stateDict(), engine, 0.01, DataType.FLOAT, "sd");
        INDArray x = TestData.subset().features(Images.indices(0, 8), DataType.FLOAT);
        assertEquals(model.probabilities(x), copy.probabilities(x));
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void aSavedModelKeepsItsWeightsAndItsAdamStateAndGoesOnTrainingIdentically(Engine engine) throws IOException {
        Images images = TestData.subset();
        TutorialModel model = TutorialModel.create(SMALL, engine, 0.01, DataType.FLOAT, 5);
        for (int step = 0; step < 3; step++) {
            int[] idx = Images.indices(16 * step, 16 * step + 16);
            model.fit(images.features(idx, DataType.FLOAT), images.oneHotLabels(idx, DataType.FLOAT));
        }
        Path file = dir.resolve("model.zip");
        model.save(file);
        TutorialModel loaded = TutorialModel.load(file);
        assertEquals(SMALL, loaded.lstmConfig());
        assertEquals(engine, loaded.engine());
        int[] idx = Images.indices(100, 116);
        double expected = model.fit(images.features(idx, DataType.FLOAT), images.oneHotLabels(idx, DataType.FLOAT));
        double actual = loaded.fit(images.features(idx, DataType.FLOAT), images.oneHotLabels(idx, DataType.FLOAT));
        assertEquals(expected, actual, 0);
        assertEquals(model.network().params(), loaded.network().params());
    }
}
