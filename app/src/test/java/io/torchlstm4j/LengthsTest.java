package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;

import static io.torchlstm4j.NumericAssertions.assertClose;

/**
 * A padded batch run with per-sample lengths equals running each sample alone on its own valid steps: the output
 * up to each length, zeros after it, and h_n / c_n (forward direction at the sample's last valid step, backward
 * direction after step 0 having started at the last valid step).
 */
class LengthsTest {

    private static final int[] LENGTHS = {3, 7, 1, 5};
    private static final int SEQ_LEN = 7;

    static List<Object[]> cases() {
        List<Object[]> cases = new ArrayList<>();
        for (Engine engine : Engine.values()) {
            for (boolean bidirectional : new boolean[] {false, true}) {
                for (boolean batchFirst : new boolean[] {false, true}) {
                    for (boolean withState : new boolean[] {false, true}) {
                        LstmConfig c = LstmConfig.builder(3, 4).numLayers(2).bidirectional(bidirectional)
                                .batchFirst(batchFirst).build();
                        cases.add(new Object[] {c, withState, engine});
                    }
                }
            }
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} state={1} on {2}")
    @MethodSource("cases")
    void batchWithLengthsEqualsEachSampleAlone(LstmConfig c, boolean withState, Engine engine) {
        TorchLstm lstm = TorchLstm.create(c, engine, DataType.DOUBLE, 11L).eval();
        int n = LENGTHS.length;
        Nd4j.getRandom().setSeed(3);
        INDArray input = c.batchFirst() ? Nd4j.randn(DataType.DOUBLE, n, SEQ_LEN, c.inputSize())
                : Nd4j.randn(DataType.DOUBLE, SEQ_LEN, n, c.inputSize());
        LstmState state = withState ? new LstmState(Nd4j.randn(DataType.DOUBLE, c.stateLayers(), n, c.outputSize()),
                Nd4j.randn(DataType.DOUBLE, c.stateLayers(), n, c.hiddenSize())) : null;

        LstmOutput batch = lstm.forward(input, state, LENGTHS);

        double tol = 1e-12;
        for (int i = 0; i < n; i++) {
            int len = LENGTHS[i];
            String context = c + " state=" + withState + " on " + engine + ", sample " + i + " (length " + len + ")";
            INDArray alone = input.get(sampleSteps(c, i, 0, len)).dup();
            LstmState aloneState = state == null ? null
                    : new LstmState(stateOf(state.h(), i), stateOf(state.c(), i));
            LstmOutput single = lstm.forward(alone, aloneState);

            assertClose(context, "output[:length]", single.output(), batch.output().get(sampleSteps(c, i, 0, len)),
                    tol);
            if (len < SEQ_LEN) {
                INDArray padded = batch.output().get(sampleSteps(c, i, len, SEQ_LEN));
                assertClose(context, "output past length", Nd4j.zeros(padded.dataType(), padded.shape()), padded, 0.0);
            }
            assertClose(context, "h_n", single.hN(), stateOf(batch.hN(), i), tol);
            assertClose(context, "c_n", single.cN(), stateOf(batch.cN(), i), tol);
        }
    }

    /** Steps [from, to) of sample i, keeping all three axes. */
    private static INDArrayIndex[] sampleSteps(LstmConfig c, int sample, int from, int to) {
        INDArrayIndex steps = NDArrayIndex.interval(from, to);
        INDArrayIndex one = NDArrayIndex.interval(sample, sample + 1);
        return c.batchFirst() ? new INDArrayIndex[] {one, steps, NDArrayIndex.all()}
                : new INDArrayIndex[] {steps, one, NDArrayIndex.all()};
    }

    private static INDArray stateOf(INDArray state, int sample) {
        return state.get(NDArrayIndex.all(), NDArrayIndex.interval(sample, sample + 1), NDArrayIndex.all()).dup();
    }
}
