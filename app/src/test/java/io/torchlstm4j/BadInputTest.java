package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad calls in the style of PyTorch's {@code test_rnn_args_check}: one axis of input, h0 or c0 at a time set to
 * the prime 7, h0 bad with c0 good and the reverse, wrong ranks, only one of h0/c0, wrong dtypes, wrong lengths;
 * for batchFirst both ways, unidirectional and bidirectional. Every case must be an IllegalArgumentException whose
 * message names the tensor, what was expected and what was found.
 */
class BadInputTest {

    private static final int INPUT_SIZE = 3;
    private static final int HIDDEN_SIZE = 5;
    private static final int NUM_LAYERS = 2;
    private static final int BATCH = 4;
    private static final int SEQ_LEN = 6;
    private static final int BAD = 7;

    /**
     * One bad call; a null h0 and c0 means no state.
     *
     * @param mustContain the tensor's name, the expected and the actual shape (or dtype, or length) as the message
     *                    must show them
     */
    record BadCall(String description, LstmConfig config, Spec input, Spec h0, Spec c0, int[] lengths,
                   List<String> mustContain) {
        @Override
        public String toString() {
            return description + " [" + config + "]";
        }
    }

    /** A tensor to build: shape and dtype. */
    record Spec(long[] shape, DataType dataType) {
        static Spec of(long... shape) {
            return new Spec(shape, DataType.FLOAT);
        }

        INDArray create() {
            return Nd4j.rand(dataType, shape);
        }
    }

    static List<LstmConfig> configs() {
        List<LstmConfig> configs = new ArrayList<>();
        for (boolean batchFirst : new boolean[] {false, true}) {
            for (boolean bidirectional : new boolean[] {false, true}) {
                configs.add(LstmConfig.builder(INPUT_SIZE, HIDDEN_SIZE).numLayers(NUM_LAYERS).batchFirst(batchFirst)
                        .bidirectional(bidirectional).build());
            }
        }
        return configs;
    }

    static List<BadCall> badCalls() {
        List<BadCall> calls = new ArrayList<>();
        for (LstmConfig c : configs()) {
            addBatchedCases(calls, c);
        }
        LstmConfig uni = LstmConfig.builder(INPUT_SIZE, HIDDEN_SIZE).numLayers(NUM_LAYERS).build();
        LstmConfig bi = uni.toBuilder().bidirectional(true).build();
        for (LstmConfig c : List.of(uni, bi)) {
            addUnbatchedCases(calls, c);
        }
        return calls;
    }

    private static void addBatchedCases(List<BadCall> calls, LstmConfig c) {
        long[] input = inputShape(c, SEQ_LEN, BATCH);
        long[] h = stateShape(c, BATCH, c.outputSize());
        long[] cell = stateShape(c, BATCH, c.hiddenSize());
        String inputForm = c.batchFirst() ? "(N, L, H_in)" : "(L, N, H_in)";
        int batchAxis = c.batchFirst() ? 0 : 1;

        // input: the feature axis set to 7, with and without state
        long[] badFeatures = with(input, 2, BAD);
        List<String> featureMessage = List.of("input", str(badFeatures), inputForm, "H_in = " + INPUT_SIZE);
        calls.add(new BadCall("input H_in = 7 without state", c, Spec.of(badFeatures), null, null, null,
                featureMessage));
        calls.add(new BadCall("input H_in = 7 with state", c, Spec.of(badFeatures), Spec.of(h), Spec.of(cell), null,
                featureMessage));
        // input: the batch axis set to 7, states for batch 4: h0 no longer fits
        calls.add(new BadCall("input N = 7 with states for N = 4", c, Spec.of(with(input, batchAxis, BAD)),
                Spec.of(h), Spec.of(cell), null,
                List.of("h0", str(h), str(stateShape(c, BAD, c.outputSize())), "(numLayers * D, N, H_out)")));

        // one axis of h0 or c0 at a time, the other one good; and both bad
        for (int axis = 0; axis < 3; axis++) {
            long[] badH = with(h, axis, BAD);
            long[] badC = with(cell, axis, BAD);
            calls.add(new BadCall("h0 axis " + axis + " = 7, c0 good", c, Spec.of(input), Spec.of(badH),
                    Spec.of(cell), null, List.of("h0", str(badH), str(h), "(numLayers * D, N, H_out)")));
            calls.add(new BadCall("c0 axis " + axis + " = 7, h0 good", c, Spec.of(input), Spec.of(h),
                    Spec.of(badC), null, List.of("c0", str(badC), str(cell), "(numLayers * D, N, H_cell)")));
            calls.add(new BadCall("h0 and c0 axis " + axis + " = 7", c, Spec.of(input), Spec.of(badH),
                    Spec.of(badC), null, List.of("h0", str(badH), str(h))));
        }

        // wrong ranks
        long[] rank4 = {SEQ_LEN, BATCH, INPUT_SIZE, 1};
        calls.add(new BadCall("input of rank 4", c, Spec.of(rank4), null, null, null,
                List.of("input", str(rank4), "2D or 3D", inputForm)));
        long[] rank1 = {INPUT_SIZE};
        calls.add(new BadCall("input of rank 1", c, Spec.of(rank1), null, null, null,
                List.of("input", str(rank1), "2D or 3D", inputForm)));
        long[] h2 = {c.stateLayers(), c.outputSize()};
        calls.add(new BadCall("h0 of rank 2 for 3-D input", c, Spec.of(input), Spec.of(h2), Spec.of(cell), null,
                List.of("h0", str(h2), "3-D")));
        long[] c2 = {c.stateLayers(), c.hiddenSize()};
        calls.add(new BadCall("c0 of rank 2 for 3-D input", c, Spec.of(input), Spec.of(h), Spec.of(c2), null,
                List.of("c0", str(c2), "3-D")));

        // only one of h0/c0
        calls.add(new BadCall("h0 without c0", c, Spec.of(input), Spec.of(h), null, null, List.of("c0", "null")));
        calls.add(new BadCall("c0 without h0", c, Spec.of(input), null, Spec.of(cell), null, List.of("h0", "null")));

        // wrong dtypes (the LSTM is float32)
        calls.add(new BadCall("input float64", c, new Spec(input, DataType.DOUBLE), null, null, null,
                List.of("input", "DOUBLE", "FLOAT")));
        calls.add(new BadCall("h0 float64", c, Spec.of(input), new Spec(h, DataType.DOUBLE), Spec.of(cell), null,
                List.of("h0", "DOUBLE", "FLOAT")));
        calls.add(new BadCall("c0 float64", c, Spec.of(input), Spec.of(h), new Spec(cell, DataType.DOUBLE), null,
                List.of("c0", "DOUBLE", "FLOAT")));

        // lengths: wrong count, out of range
        calls.add(new BadCall("3 lengths for N = 4", c, Spec.of(input), null, null, new int[] {6, 5, 4},
                List.of("lengths", "3 entries", "N = " + BATCH)));
        calls.add(new BadCall("5 lengths for N = 4", c, Spec.of(input), Spec.of(h), Spec.of(cell),
                new int[] {6, 5, 4, 3, 2}, List.of("lengths", "5 entries", "N = " + BATCH)));
        calls.add(new BadCall("a length of 0", c, Spec.of(input), null, null, new int[] {6, 0, 4, 3},
                List.of("lengths[1] = 0", "1.." + SEQ_LEN)));
        calls.add(new BadCall("a length of L + 1", c, Spec.of(input), null, null, new int[] {6, 5, SEQ_LEN + 1, 3},
                List.of("lengths[2] = " + (SEQ_LEN + 1), "1.." + SEQ_LEN)));
    }

    private static void addUnbatchedCases(List<BadCall> calls, LstmConfig c) {
        long[] input = {SEQ_LEN, INPUT_SIZE};
        long[] h = {c.stateLayers(), c.outputSize()};
        long[] cell = {c.stateLayers(), c.hiddenSize()};
        long[] badFeatures = {SEQ_LEN, BAD};
        calls.add(new BadCall("unbatched input H_in = 7", c, Spec.of(badFeatures), null, null, null,
                List.of("input", str(badFeatures), "(L, H_in)", "H_in = " + INPUT_SIZE)));
        for (int axis = 0; axis < 2; axis++) {
            long[] badH = with(h, axis, BAD);
            long[] badC = with(cell, axis, BAD);
            calls.add(new BadCall("unbatched h0 axis " + axis + " = 7", c, Spec.of(input), Spec.of(badH),
                    Spec.of(cell), null, List.of("h0", str(badH), str(h), "(numLayers * D, H_out)")));
            calls.add(new BadCall("unbatched c0 axis " + axis + " = 7", c, Spec.of(input), Spec.of(h),
                    Spec.of(badC), null, List.of("c0", str(badC), str(cell), "(numLayers * D, H_cell)")));
        }
        long[] h3 = {c.stateLayers(), 1, c.outputSize()};
        long[] c3 = {c.stateLayers(), 1, c.hiddenSize()};
        calls.add(new BadCall("3-D states for unbatched input", c, Spec.of(input), Spec.of(h3), Spec.of(c3), null,
                List.of("h0", str(h3), "2-D")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badCalls")
    void badCallIsRejectedWithNamesAndShapes(BadCall call) {
        TorchLstm lstm = TorchLstm.create(call.config(), Engine.REFERENCE, DataType.FLOAT, 1L).eval();
        INDArray input = call.input().create();
        LstmState state = call.h0() == null && call.c0() == null ? null
                : new LstmState(call.h0() == null ? null : call.h0().create(),
                call.c0() == null ? null : call.c0().create());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(input, state, call.lengths()));
        for (String part : call.mustContain()) {
            assertTrue(e.getMessage().contains(part),
                    call + ": the message must contain '" + part + "' but is: " + e.getMessage());
        }
    }

    /** The control group: the good shapes of the matrix run, and the sequence length is free (L = 7 is valid). */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("goodCalls")
    void goodShapesRun(LstmConfig c, Engine engine) {
        TorchLstm lstm = TorchLstm.create(c, engine, DataType.FLOAT, 1L).eval();
        for (int seqLen : new int[] {SEQ_LEN, BAD}) {
            INDArray input = Spec.of(inputShape(c, seqLen, BATCH)).create();
            LstmState state = new LstmState(Spec.of(stateShape(c, BATCH, c.outputSize())).create(),
                    Spec.of(stateShape(c, BATCH, c.hiddenSize())).create());
            LstmOutput out = lstm.forward(input, state, new int[] {seqLen, 1, 2, 3});
            long[] expected = c.batchFirst() ? new long[] {BATCH, seqLen, (long) c.numDirections() * c.outputSize()}
                    : new long[] {seqLen, BATCH, (long) c.numDirections() * c.outputSize()};
            assertArrayEquals(expected, out.output().shape(), c + " output shape for L = " + seqLen);
            assertArrayEquals(state.h().shape(), out.hN().shape(), c + " h_n shape");
            assertArrayEquals(state.c().shape(), out.cN().shape(), c + " c_n shape");
        }
    }

    static List<Object[]> goodCalls() {
        List<Object[]> calls = new ArrayList<>();
        for (LstmConfig c : configs()) {
            for (Engine engine : Engine.values()) {
                calls.add(new Object[] {c, engine});
            }
        }
        return calls;
    }

    @Test
    void batchAndTimeSwappedSuggestsBatchFirst() {
        LstmConfig c = LstmConfig.builder(INPUT_SIZE, HIDDEN_SIZE).numLayers(NUM_LAYERS).build();
        TorchLstm lstm = TorchLstm.create(c, Engine.REFERENCE, DataType.FLOAT, 1L);
        INDArray batchFirstInput = Nd4j.rand(DataType.FLOAT, BATCH, SEQ_LEN, INPUT_SIZE);
        LstmState state = new LstmState(Nd4j.rand(DataType.FLOAT, NUM_LAYERS, BATCH, HIDDEN_SIZE),
                Nd4j.rand(DataType.FLOAT, NUM_LAYERS, BATCH, HIDDEN_SIZE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> lstm.forward(batchFirstInput, state));
        assertTrue(e.getMessage().contains("did you mean batchFirst=true?"), e.getMessage());
    }

    private static long[] inputShape(LstmConfig c, long seqLen, long batch) {
        return c.batchFirst() ? new long[] {batch, seqLen, INPUT_SIZE} : new long[] {seqLen, batch, INPUT_SIZE};
    }

    private static long[] stateShape(LstmConfig c, long batch, long size) {
        return new long[] {c.stateLayers(), batch, size};
    }

    private static long[] with(long[] shape, int axis, long size) {
        long[] changed = shape.clone();
        changed[axis] = size;
        return changed;
    }

    private static String str(long[] shape) {
        return Arrays.toString(shape);
    }
}
