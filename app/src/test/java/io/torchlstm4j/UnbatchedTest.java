package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.torchlstm4j.NumericAssertions.assertClose;

/**
 * Unbatched calls ((L, H_in) input, states without the N axis) give exactly the numbers of the same call on a batch of
 * one, squeezed: in one call, along a stream of one-step calls that carries the unbatched state from call to call
 * (the FAST engine takes unbatched tensors as they are and reuses shape infos across calls), and with lengths.
 */
class UnbatchedTest {

    static Stream<Arguments> cases() {
        List<LstmConfig> configs = List.of(
                LstmConfig.builder(5, 7).numLayers(2).build(),
                LstmConfig.builder(4, 6).numLayers(2).bidirectional(true).build(),
                LstmConfig.builder(3, 6).projSize(2).build(),
                LstmConfig.builder(3, 4).batchFirst(true).build());
        List<Arguments> cases = new ArrayList<>();
        for (Engine engine : Engine.values()) {
            for (LstmConfig config : configs) {
                for (DataType dataType : List.of(DataType.FLOAT, DataType.DOUBLE)) {
                    if (engine == Engine.REFERENCE && config.projSize() > 0) {
                        continue; // the reference engine has no projections
                    }
                    cases.add(Arguments.of(engine, config, dataType));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void unbatchedCallsEqualBatchOfOneSqueezed(Engine engine, LstmConfig config, DataType dataType) {
        TorchLstm lstm = TorchLstm.create(config, engine, dataType, 5).eval();
        Nd4j.getRandom().setSeed(13);
        // one call of 4 steps, from zeros and from a state
        INDArray x = Nd4j.randn(dataType, 4, config.inputSize());
        LstmState state = new LstmState(Nd4j.randn(dataType, config.stateLayers(), config.outputSize()),
                Nd4j.randn(dataType, config.stateLayers(), config.hiddenSize()));
        assertSame("zero state", lstm.forward(batchOfOne(config, x), null), lstm.forward(x, null));
        assertSame("with state", lstm.forward(batchOfOne(config, x), batchOfOne(state)), lstm.forward(x, state));
        assertSame("with lengths", lstm.forward(batchOfOne(config, x), batchOfOne(state), new int[] {3}),
                lstm.forward(x, state, new int[] {3}));

        // one-step calls with the state carried, lengths changing now and then (the reused views must follow)
        LstmState unbatched = null;
        LstmState batched = null;
        List<LstmOutput> earlier = new ArrayList<>();
        List<INDArray> earlierCopies = new ArrayList<>();
        for (int call = 0; call < 8; call++) {
            INDArray step = Nd4j.randn(dataType, call == 5 ? 3 : 1, config.inputSize());
            LstmOutput expected = lstm.forward(batchOfOne(config, step), batched);
            LstmOutput actual = lstm.forward(step, unbatched);
            assertSame("step call " + call, expected, actual);
            batched = expected.state();
            unbatched = actual.state();
            earlier.add(actual);
            earlierCopies.add(actual.hN().dup());
        }
        for (int call = 0; call < earlier.size(); call++) {
            assertClose(engine + " " + config, "h_n of step call " + call + " after later calls",
                    earlierCopies.get(call), earlier.get(call).hN(), 0);
        }
    }

    /**
     * The FAST engine's unbatched output lies on the results' one buffer object, as the batched output does (h_n is a
     * view of that buffer): no extra view buffer, which would be one more native object to create and free per call.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fastConfigs")
    void fastUnbatchedOutputMakesNoExtraBuffer(LstmConfig config) {
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 5).eval();
        Nd4j.getRandom().setSeed(17);
        LstmState state = null;
        for (int call = 0; call < 3; call++) { // the first call makes the views, later ones reuse their shapes
            for (int steps : new int[] {1, 4}) {
                LstmOutput out = lstm.forward(Nd4j.randn(DataType.FLOAT, steps, config.inputSize()), state);
                org.junit.jupiter.api.Assertions.assertSame(out.hN().data().originalDataBuffer(), out.output().data(),
                        config + ", " + steps + " step(s), call " + call + ": the output's buffer object");
                state = call % 2 == 0 ? out.state() : null;
            }
        }
    }

    static Stream<LstmConfig> fastConfigs() {
        return Stream.of(LstmConfig.builder(5, 7).numLayers(2).build(),
                LstmConfig.builder(4, 6).bidirectional(true).build());
    }

    /** The unbatched result must equal the batch-of-one result with its N axis removed, bit for bit. */
    private static void assertSame(String what, LstmOutput batchOfOne, LstmOutput unbatched) {
        String context = what + " (unbatched against a batch of one)";
        INDArray output = batchOfOne.output();
        assertClose(context, "output", output.reshape(output.size(0) * output.size(1), output.size(2)),
                unbatched.output(), 0);
        assertClose(context, "h_n", squeeze(batchOfOne.hN()), unbatched.hN(), 0);
        assertClose(context, "c_n", squeeze(batchOfOne.cN()), unbatched.cN(), 0);
    }

    private static INDArray squeeze(INDArray state) {
        return state.reshape(state.size(0), state.size(2));
    }

    private static INDArray batchOfOne(LstmConfig config, INDArray x) {
        return config.batchFirst() ? x.reshape(1, x.size(0), x.size(1)) : x.reshape(x.size(0), 1, x.size(1));
    }

    private static LstmState batchOfOne(LstmState state) {
        return new LstmState(state.h().reshape(state.h().size(0), 1, state.h().size(1)),
                state.c().reshape(state.c().size(0), 1, state.c().size(1)));
    }
}
