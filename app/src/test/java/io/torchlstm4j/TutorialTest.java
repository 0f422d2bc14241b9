package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static io.torchlstm4j.NumericAssertions.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The checks of PyTorch's LSTM documentation and tutorial, on every engine. */
class TutorialTest {

    /**
     * {@code nn.LSTM(10, 20, 2, bidirectional=True)} on (5, 3, 10) with (h0, c0) of (4, 3, 20): output (5, 3, 40),
     * h_n and c_n (4, 3, 20); output[4, 0, :20] == h_n[2, 0] (last layer, forward, at the last step) and
     * output[0, 0, 20:] == h_n[3, 0] (last layer, backward, at step 0).
     */
    @ParameterizedTest
    @EnumSource(Engine.class)
    void bidirectionalTwoLayerShapesAndFinalStates(Engine engine) {
        LstmConfig config = LstmConfig.builder(10, 20).numLayers(2).bidirectional(true).build();
        TorchLstm lstm = TorchLstm.create(config, engine, DataType.FLOAT, 42L).eval();
        Nd4j.getRandom().setSeed(7);
        INDArray input = Nd4j.randn(DataType.FLOAT, 5, 3, 10);
        INDArray h0 = Nd4j.randn(DataType.FLOAT, 4, 3, 20);
        INDArray c0 = Nd4j.randn(DataType.FLOAT, 4, 3, 20);

        LstmOutput out = lstm.forward(input, new LstmState(h0, c0));

        assertArrayEquals(new long[] {5, 3, 40}, out.output().shape(), "output shape");
        assertArrayEquals(new long[] {4, 3, 20}, out.hN().shape(), "h_n shape");
        assertArrayEquals(new long[] {4, 3, 20}, out.cN().shape(), "c_n shape");
        INDArray forwardLast = out.output().get(NDArrayIndex.point(4), NDArrayIndex.point(0),
                NDArrayIndex.interval(0, 20));
        INDArray backwardFirst = out.output().get(NDArrayIndex.point(0), NDArrayIndex.point(0),
                NDArrayIndex.interval(20, 40));
        assertClose(engine.toString(), "output[4, 0, :20] vs h_n[2, 0]",
                out.hN().get(NDArrayIndex.point(2), NDArrayIndex.point(0), NDArrayIndex.all()), forwardLast, 0.0);
        assertClose(engine.toString(), "output[0, 0, 20:] vs h_n[3, 0]",
                out.hN().get(NDArrayIndex.point(3), NDArrayIndex.point(0), NDArrayIndex.all()), backwardFirst, 0.0);
    }

    /** {@code nn.LSTM(3, 3)} on 5 steps of one sample: out[-1] == h_n. */
    @ParameterizedTest
    @EnumSource(Engine.class)
    void lastOutputIsFinalHiddenState(Engine engine) {
        TorchLstm lstm = TorchLstm.create(LstmConfig.builder(3, 3).build(), engine, DataType.FLOAT, 1L).eval();
        Nd4j.getRandom().setSeed(1);
        INDArray inputs = Nd4j.randn(DataType.FLOAT, 5, 1, 3);

        LstmOutput out = lstm.forward(inputs);

        assertArrayEquals(new long[] {5, 1, 3}, out.output().shape(), "out shape");
        assertArrayEquals(new long[] {1, 1, 3}, out.hN().shape(), "h_n shape");
        assertClose(engine.toString(), "out[-1] vs h_n", out.hN(),
                out.output().get(NDArrayIndex.interval(4, 5), NDArrayIndex.all(), NDArrayIndex.all()), 0.0);
    }
}
