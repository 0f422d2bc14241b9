package io.torchlstm4j.engine.fast;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static io.torchlstm4j.engine.fast.FastEngineTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast and the reference engine, built from the same seed, hold the same weights and compute the same. (The
 * reference engine keeps one DL4J bias and reports it as {@code bias_ih = b, bias_hh = 0}, so biases compare as sums.)
 */
class EnginesAgreeTest {

    static Stream<LstmConfig> configurations() {
        return Stream.of(
                LstmConfig.builder(3, 4).build(),
                LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build(),
                LstmConfig.builder(2, 3).numLayers(3).bias(false).batchFirst(true).build());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void sameSeedGivesTheSameWeightsOutputsAndGradients(LstmConfig config) {
        TorchLstm fast = TorchLstm.create(config, Engine.FAST, DataType.DOUBLE, 21).eval();
        TorchLstm reference = TorchLstm.create(config, Engine.REFERENCE, DataType.DOUBLE, 21).eval();
        Map<String, INDArray> fastParams = fast.stateDict();
        Map<String, INDArray> referenceParams = reference.stateDict();
        assertEquals(referenceParams.keySet(), fastParams.keySet());
        referenceParams.forEach((name, expected) -> {
            if (name.startsWith("bias_ih")) {
                String hh = name.replace("bias_ih", "bias_hh");
                assertClose(expected.add(referenceParams.get(hh)), fastParams.get(name).add(fastParams.get(hh)), 1e-15,
                        name + " + bias_hh");
            } else if (name.startsWith("weight")) {
                assertEquals(expected, fastParams.get(name), name);
            }
        });
        Random r = new Random(5);
        int batch = 3;
        int steps = 6;
        INDArray input = config.batchFirst()
                ? FastEngineTest.Case.random(r, DataType.DOUBLE, batch, steps, config.inputSize())
                : FastEngineTest.Case.random(r, DataType.DOUBLE, steps, batch, config.inputSize());
        LstmState state = new LstmState(
                FastEngineTest.Case.random(r, DataType.DOUBLE, config.stateLayers(), batch, config.outputSize()),
                FastEngineTest.Case.random(r, DataType.DOUBLE, config.stateLayers(), batch, config.hiddenSize()));
        int[] lengths = {4, 6, 1};
        LstmOutput a = fast.forward(input, state, lengths);
        LstmOutput b = reference.forward(input, state, lengths);
        assertClose(b.output(), a.output(), 1e-12, "output");
        assertClose(b.hN(), a.hN(), 1e-12, "h_n");
        assertClose(b.cN(), a.cN(), 1e-12, "c_n");
        INDArray weights = FastEngineTest.Case.random(r, DataType.DOUBLE, a.output().shape());
        Map<String, INDArray> ga = fast.gradients(input, null, lengths, weights);
        Map<String, INDArray> gb = reference.gradients(input, null, lengths, weights);
        assertEquals(gb.keySet(), ga.keySet());
        gb.forEach((name, expected) -> assertClose(expected, ga.get(name), 1e-12, "grad " + name));
    }
}
