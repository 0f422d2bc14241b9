package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LstmStreamTest {

    static Stream<Arguments> configs() {
        return Stream.of(Engine.values()).flatMap(e -> Stream.of(false, true).map(bf -> Arguments.of(e, bf)));
    }

    @ParameterizedTest(name = "{0} batchFirst={1}")
    @MethodSource("configs")
    void chunkedRunEqualsOneCall(Engine engine, boolean batchFirst) {
        LstmConfig config = LstmConfig.builder(3, 5).numLayers(2).batchFirst(batchFirst).build();
        TorchLstm lstm = TorchLstm.create(config, engine, DataType.DOUBLE, 7).eval();
        Nd4j.getRandom().setSeed(11);
        long[] shape = batchFirst ? new long[] {2, 9, 3} : new long[] {9, 2, 3};
        INDArray x = Nd4j.randn(DataType.DOUBLE, shape);
        int timeAxis = batchFirst ? 1 : 0;
        LstmOutput whole = lstm.forward(x);

        LstmStream stream = lstm.stream();
        INDArray first = stream.next(slice(x, timeAxis, 0, 4)).output();
        INDArray second = stream.next(slice(x, timeAxis, 4, 9)).output();

        INDArray joined = Nd4j.concat(timeAxis, first, second);
        assertTrue(joined.equalsWithEps(whole.output(), 1e-12), "chunked output differs from one call");
        assertEquals(0, stream.state().h().sub(whole.hN()).amaxNumber().doubleValue(), 1e-12);
        assertEquals(0, stream.state().c().sub(whole.cN()).amaxNumber().doubleValue(), 1e-12);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void bidirectionalStreamIsRefused(Engine engine) {
        TorchLstm lstm = TorchLstm.create(LstmConfig.builder(3, 5).bidirectional(true).build(), engine,
                DataType.FLOAT, 1);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, lstm::stream);
        assertTrue(e.getMessage().contains("bidirectional LSTM cannot stream"), e.getMessage());
    }

    static Stream<Engine> engines() {
        return Stream.of(Engine.values());
    }

    private static INDArray slice(INDArray x, int axis, long from, long to) {
        return axis == 0 ? x.get(NDArrayIndex.interval(from, to), NDArrayIndex.all(), NDArrayIndex.all()).dup()
                : x.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup();
    }
}
