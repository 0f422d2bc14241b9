package io.torchlstm4j.engine.fast;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.core.ParameterKey;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static io.torchlstm4j.engine.fast.FastEngineTest.Case.random;
import static io.torchlstm4j.engine.fast.FastEngineTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Later calls of one FAST instance reuse what the first built (the kernel's weight wrappers, the shape infos of
 * output, h_n and c_n): they must give exactly what a fresh instance gives, in arrays of the same kind, and never
 * change the results an earlier call returned.
 */
class RepeatedCallsTest {

    static Stream<LstmConfig> configurations() {
        return Stream.of(
                LstmConfig.builder(3, 4).build(),
                LstmConfig.builder(3, 5).numLayers(2).bidirectional(true).projSize(2).build(),
                LstmConfig.builder(2, 3).numLayers(2).batchFirst(true).build());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void aRepeatedCallEqualsAFreshInstanceAndLeavesEarlierResultsAlone(LstmConfig config) {
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 3).eval();
        Random r = new Random(8);
        LstmOutput first = lstm.forward(input(config, r, 3, 5), state(config, r, 3));
        List<INDArray> firstCopy = List.of(first.output().dup(), first.hN().dup(), first.cN().dup());
        TorchLstm fresh = TorchLstm.fromStateDict(config, Engine.FAST, lstm.stateDict()).eval();
        for (int call = 0; call < 3; call++) {
            INDArray x = input(config, r, 3, 5);
            LstmState s = state(config, r, 3);
            LstmOutput again = lstm.forward(x, s);
            LstmOutput expected = TorchLstm.fromStateDict(config, Engine.FAST, fresh.stateDict()).eval().forward(x, s);
            assertSameResults(expected, again, "call " + (call + 2));
            assertSameKind(first, again, "call " + (call + 2) + " against call 1's arrays");
        }
        assertClose(firstCopy.get(0), first.output(), 0, "call 1's output after later calls");
        assertClose(firstCopy.get(1), first.hN(), 0, "call 1's h_n after later calls");
        assertClose(firstCopy.get(2), first.cN(), 0, "call 1's c_n after later calls");
        LstmOutput otherShape = lstm.forward(input(config, r, 2, 7), state(config, r, 2));
        assertEquals(config.batchFirst() ? "[2, 7, " + config.numDirections() * config.outputSize() + "]"
                : "[7, 2, " + config.numDirections() * config.outputSize() + "]", Arrays.toString(otherShape.output().shape()));
    }

    /**
     * One instance called with more kinds of call (L, N, batched or not) than it keeps result views for, in turn and
     * twice over (so kinds come back after being dropped): every call gives what a fresh instance gives.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("configurations")
    void callsThatMixShapesAndUnbatchedInputEqualAFreshInstance(LstmConfig config) {
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 3).eval();
        TorchLstm fresh = TorchLstm.fromStateDict(config, Engine.FAST, lstm.stateDict()).eval();
        Random r = new Random(12);
        int[][] kinds = {{1, 1}, {2, 1}, {1, 3}, {4, 1}, {3, 2}, {1, 2}, {2, 3}, {5, 1}, {1, 4}, {3, 1}};
        for (int round = 0; round < 2; round++) {
            for (int[] kind : kinds) {
                for (boolean unbatched : new boolean[] {false, true}) {
                    if (unbatched && kind[0] != 1) {
                        continue;
                    }
                    int batch = kind[0];
                    int steps = kind[1];
                    INDArray x = unbatched ? random(r, DataType.FLOAT, steps, config.inputSize())
                            : input(config, r, batch, steps);
                    LstmState s = unbatched
                            ? new LstmState(random(r, DataType.FLOAT, config.stateLayers(), config.outputSize()),
                                    random(r, DataType.FLOAT, config.stateLayers(), config.hiddenSize()))
                            : state(config, r, batch);
                    LstmOutput expected = TorchLstm.fromStateDict(config, Engine.FAST, fresh.stateDict()).eval()
                            .forward(x, s);
                    assertSameResults(expected, lstm.forward(x, s), "round " + (round + 1) + ", N=" + batch + ", L="
                            + steps + (unbatched ? ", unbatched" : ""));
                }
            }
        }
    }

    @Test
    void inputsThatAreViewsAtAnOffsetGiveWhatTheirCopiesGive() {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build();
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 3).eval();
        Random r = new Random(10);
        for (int call = 0; call < 3; call++) {
            INDArray whole = random(r, DataType.FLOAT, 3, 5, 2, config.inputSize());
            INDArray view = whole.get(NDArrayIndex.point(1 + call % 2), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.all());
            LstmOutput expected = lstm.forward(view.dup());
            LstmOutput actual = lstm.forward(view);
            assertClose(expected.output(), actual.output(), 0, "call " + (call + 1) + " on a view at offset "
                    + view.offset());
            assertClose(expected.hN(), actual.hN(), 0, "h_n of call " + (call + 1));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(RNNFormat.class)
    void theDl4jLayerRepeatedGivesWhatAFreshLayerGives(RNNFormat format) {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build();
        Map<ParameterKey, INDArray> params = new FastEngine(config, DataType.FLOAT, 2).parameters();
        TorchLstmLayerImpl layer = TorchLstmLayerTest.standaloneLayer(config, format, params);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        Random r = new Random(11);
        for (int call = 0; call < 3; call++) {
            INDArray x = format == RNNFormat.NWC ? random(r, DataType.FLOAT, 2, 5, 3) : random(r, DataType.FLOAT, 2, 3, 5);
            INDArray epsilon = format == RNNFormat.NWC ? random(r, DataType.FLOAT, 2, 5, 8)
                    : random(r, DataType.FLOAT, 2, 8, 5);
            TorchLstmLayerImpl fresh = TorchLstmLayerTest.standaloneLayer(config, format, params);
            String what = format + " call " + (call + 1);
            layer.setInput(x, mgr);
            fresh.setInput(x, mgr);
            assertClose(fresh.activate(true, mgr), layer.activate(true, mgr), 0, what + " output");
            Gradient expected = fresh.backpropGradient(epsilon, mgr).getFirst();
            Gradient actual = layer.backpropGradient(epsilon, mgr).getFirst();
            assertClose(expected.gradient(), actual.gradient(), 0, what + " parameter gradient");
        }
    }

    @Test
    void newWeightsReachTheNextCall() {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).build();
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 3).eval();
        TorchLstm other = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 4).eval();
        INDArray x = input(config, new Random(9), 2, 4);
        lstm.forward(x);
        lstm.loadStateDict(other.stateDict());
        LstmOutput expected = other.forward(x);
        assertClose(expected.output(), lstm.forward(x).output(), 0, "output after loadStateDict");
        lstm.network().setParams(TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 5).network().params());
        assertClose(TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 5).eval().forward(x).output(),
                lstm.forward(x).output(), 0, "output after network().setParams");
    }

    /** Same values (exactly), in arrays of the same shapes and strides. */
    private static void assertSameResults(LstmOutput expected, LstmOutput actual, String what) {
        assertSameKind(expected, actual, what);
        assertClose(expected.output(), actual.output(), 0, what + ": output");
        assertClose(expected.hN(), actual.hN(), 0, what + ": h_n");
        assertClose(expected.cN(), actual.cN(), 0, what + ": c_n");
    }

    /** Arrays of the same shapes, strides, orders and offsets. */
    private static void assertSameKind(LstmOutput expected, LstmOutput actual, String what) {
        List<INDArray> e = List.of(expected.output(), expected.hN(), expected.cN());
        List<INDArray> a = List.of(actual.output(), actual.hN(), actual.cN());
        for (int i = 0; i < 3; i++) {
            String name = what + ": " + List.of("output", "h_n", "c_n").get(i);
            assertEquals(Arrays.toString(e.get(i).shape()), Arrays.toString(a.get(i).shape()), name + " shape");
            assertEquals(Arrays.toString(e.get(i).stride()), Arrays.toString(a.get(i).stride()), name + " strides");
            assertEquals(e.get(i).ordering(), a.get(i).ordering(), name + " order");
            assertEquals(e.get(i).offset(), a.get(i).offset(), name + " offset");
        }
    }

    private static INDArray input(LstmConfig config, Random r, int batch, int steps) {
        return config.batchFirst() ? random(r, DataType.FLOAT, batch, steps, config.inputSize())
                : random(r, DataType.FLOAT, steps, batch, config.inputSize());
    }

    private static LstmState state(LstmConfig config, Random r, int batch) {
        return new LstmState(random(r, DataType.FLOAT, config.stateLayers(), batch, config.outputSize()),
                random(r, DataType.FLOAT, config.stateLayers(), batch, config.hiddenSize()));
    }
}
