package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterInit;
import io.torchlstm4j.core.ParameterKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one translation between PyTorch's names and the engines' {@link ParameterKey}s. */
class TorchParameterNamesTest {

    static Stream<LstmConfig> configs() {
        return Stream.of(LstmConfig.builder(3, 5).build(),
                LstmConfig.builder(7, 4).numLayers(3).bidirectional(true).build(),
                LstmConfig.builder(2, 6).numLayers(2).bias(false).projSize(3).build(),
                LstmConfig.builder(5, 8).numLayers(2).bidirectional(true).projSize(2).build());
    }

    @Test
    void namesAreSpelledAsPyTorchSpellsThem() {
        assertEquals("weight_ih_l0", TorchParameterNames.name(new ParameterKey(0, 0, ParameterKey.Kind.WEIGHT_IH)));
        assertEquals("weight_hh_l1_reverse",
                TorchParameterNames.name(new ParameterKey(1, 1, ParameterKey.Kind.WEIGHT_HH)));
        assertEquals("bias_ih_l2", TorchParameterNames.name(new ParameterKey(2, 0, ParameterKey.Kind.BIAS_IH)));
        assertEquals("bias_hh_l0_reverse", TorchParameterNames.name(new ParameterKey(0, 1, ParameterKey.Kind.BIAS_HH)));
        assertEquals("weight_hr_l3", TorchParameterNames.name(new ParameterKey(3, 0, ParameterKey.Kind.WEIGHT_HR)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void expectedShapesAreTheKeysNamedInTheirOrderWithTheirShapes(LstmConfig config) {
        List<ParameterKey> keys = ParameterKey.all(config);
        Map<String, long[]> shapes = TorchParameterNames.expectedShapes(config);
        assertEquals(keys.stream().map(TorchParameterNames::name).toList(), List.copyOf(shapes.keySet()));
        for (ParameterKey key : keys) {
            assertEquals(Arrays.toString(key.shape(config)), Arrays.toString(shapes.get(TorchParameterNames.name(key))),
                    key.toString());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void namedAndKeyedAreInversesAndKeepTheTensors(LstmConfig config) {
        Map<ParameterKey, INDArray> keyed = ParameterInit.lstm(config, DataType.FLOAT, 3);
        Map<String, INDArray> named = TorchParameterNames.named(keyed);
        assertEquals(List.copyOf(TorchParameterNames.expectedShapes(config).keySet()), List.copyOf(named.keySet()));
        Map<ParameterKey, INDArray> back = TorchParameterNames.keyed(config, named);
        assertEquals(List.copyOf(keyed.keySet()), List.copyOf(back.keySet()));
        keyed.forEach((key, tensor) -> assertSame(tensor, back.get(key), key.toString()));
        assertEquals(TorchInit.lstmStateDict(config, DataType.FLOAT, 3), named,
                "TorchInit names ParameterInit's draws");
    }

    @Test
    void keyedLeavesOutAbsentNamesAndIgnoresOthers() {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        Map<String, INDArray> stateDict = new LinkedHashMap<>(TorchInit.lstmStateDict(config, DataType.FLOAT, 1));
        stateDict.remove("bias_hh_l0");
        stateDict.put("weight_ih_l0_reverse", stateDict.get("weight_ih_l0"));
        Map<ParameterKey, INDArray> keyed = TorchParameterNames.keyed(config, stateDict);
        assertEquals(List.of(new ParameterKey(0, 0, ParameterKey.Kind.WEIGHT_IH),
                new ParameterKey(0, 0, ParameterKey.Kind.WEIGHT_HH),
                new ParameterKey(0, 0, ParameterKey.Kind.BIAS_IH)), List.copyOf(keyed.keySet()));
    }

    @Test
    void aKeyOutsideAnyLstmIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ParameterKey(0, 2, ParameterKey.Kind.WEIGHT_IH));
        assertTrue(e.getMessage().contains("direction 2"), e.getMessage());
    }
}
