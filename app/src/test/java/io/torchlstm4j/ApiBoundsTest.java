package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configurations and calls that cannot be allocated are refused before anything is allocated, with the size. */
class ApiBoundsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"'LSTM(10, 20)', 10, 20, 1, true, false, 0", "bidirectional, 10, 20, 2, true, true, 0",
            "no bias, 7, 5, 3, false, false, 0", "projection, 6, 8, 2, true, true, 3"})
    void parameterCountIsTheStateDictsSize(String name, int in, int hidden, int layers, boolean bias, boolean bi,
                                           int proj) {
        LstmConfig config = LstmConfig.builder(in, hidden).numLayers(layers).bias(bias).bidirectional(bi)
                .projSize(proj).build();
        long actual = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 1).stateDict().values().stream()
                .mapToLong(INDArray::length).sum();
        assertEquals(actual, config.parameterCount());
    }

    @Test
    void hiddenSizeOfAHundredThousandIsRefusedWithTheBytesItNeeds() {
        LstmConfig config = LstmConfig.builder(10, 100_000).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TorchLstm.create(config));
        long parameters = 4L * 100_000 * (10 + 100_000 + 2); // 4 H (H_in + H_out + 2)
        assertTrue(e.getMessage().startsWith("LSTM(10, 100000)'s parameters = " + parameters + " values, "
                + 4 * parameters + " bytes of FLOAT, more than the "), e.getMessage());
        assertTrue(e.getMessage().contains("bytes ND4J may allocate (JavaCPP maxBytes: raise -Xmx or set "
                + "-Dorg.bytedeco.javacpp.maxBytes)"), e.getMessage());
    }

    @Test
    void hiddenSizeOfIntMaxOverflowsAndIsRefusedByTheConfiguration() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LstmConfig.builder(10, Integer.MAX_VALUE).build());
        assertEquals("LSTM(10, 2147483647, num_layers=1, proj_size=0, bidirectional=false) would have more than 2^63 "
                + "parameters", e.getMessage());
    }

    @Test
    void aHundredThousandLayersAreCountedBeforeAnythingIsBuilt() {
        LstmConfig config = LstmConfig.builder(10, 1000).numLayers(100_000).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchLstm.create(config, Engine.REFERENCE, DataType.DOUBLE, 1));
        long parameters = 4L * 1000 * (10 + 1000 + 2) + 99_999L * 4 * 1000 * (1000 + 1000 + 2);
        assertTrue(e.getMessage().startsWith("LSTM(10, 1000, num_layers=100000)'s parameters = " + parameters
                + " values, " + 8 * parameters + " bytes of DOUBLE"), e.getMessage());
    }

    @Test
    void int64LengthsOutsideTheIntRangeAreRefusedNotTruncated() {
        TorchLstm lstm = TorchLstm.create(LstmConfig.builder(2, 3).build(), Engine.FAST, DataType.FLOAT, 1);
        INDArray input = Nd4j.zeros(DataType.FLOAT, 5, 3, 2);
        INDArray lengths = Nd4j.createFromArray(4_294_967_299L, 2L, 5L); // 2^32 + 3: 3 as an int
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(input, null, lengths));
        assertEquals("lengths[0] = 4294967299 is outside the int range (each length must be in 1..L)",
                e.getMessage());
    }
}
