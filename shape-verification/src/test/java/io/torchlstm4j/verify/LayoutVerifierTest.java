package io.torchlstm4j.verify;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayoutVerifierTest {

    /** One verification case: a configuration and an input description. */
    record Case(String name, LstmConfig config, DataType dataType, int seqLen, int batch, boolean withState,
                int[] lengths) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("tutorial: 2 layers bidirectional", LstmConfig.builder(10, 20).numLayers(2)
                        .bidirectional(true).build(), DataType.FLOAT, 5, 3, true, null),
                new Case("nn.LSTM(3, 3) on 5 steps", LstmConfig.builder(3, 3).build(), DataType.FLOAT, 5, 1, false,
                        null),
                new Case("3 layers unidirectional, batchFirst, with state, float64", LstmConfig.builder(4, 6)
                        .numLayers(3).batchFirst(true).build(), DataType.DOUBLE, 6, 2, true, null),
                new Case("2 layers unidirectional, no bias, lengths", LstmConfig.builder(4, 5).numLayers(2)
                        .bias(false).build(), DataType.DOUBLE, 6, 3, false, new int[] {6, 3, 4}),
                new Case("3 layers bidirectional, lengths with a length-1 sample, state", LstmConfig.builder(3, 4)
                        .numLayers(3).bidirectional(true).build(), DataType.DOUBLE, 5, 3, true, new int[] {2, 5, 1}),
                new Case("bidirectional, batchFirst, lengths", LstmConfig.builder(3, 4).bidirectional(true)
                        .batchFirst(true).build(), DataType.FLOAT, 4, 2, false, new int[] {3, 4}));
    }

    static Stream<Arguments> casesOnEngines() {
        return cases().flatMap(c -> Stream.of(Engine.values()).map(e -> Arguments.of(c, e)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnEngines")
    void everyInvariantHoldsOnTheAdapter(Case c, Engine engine) {
        Fixture f = fixture(c, engine);
        VerificationReport report = LayoutVerifier.onAdapter(engine).verify(c.config(), f.stateDict(), f.input(),
                f.state(), c.lengths(), Tolerances.forward(c.dataType()));

        assertTrue(report.passed(), () -> "failed checks: " + report.checks().stream()
                .filter(r -> !r.passed()).toList());
        int d = c.config().numDirections();
        assertEquals(3, count(report, "shape"));
        assertEquals(c.config().numLayers() * d, count(report, "final step = h_n"), "one per layer and direction");
        assertEquals(d, count(report, "tutorial slice = h_n"));
        assertEquals(c.batch(), count(report, "sample alone"));
        boolean chunks = !c.config().bidirectional() && (c.lengths() == null || min(c.lengths()) >= 2);
        assertEquals(chunks ? 4 : 0, report.checks().stream().filter(r -> r.name().startsWith("two chunks")).count());
        assertEquals(chunks ? 0 : 1, report.notes().stream().filter(n -> n.startsWith("two chunks")).count());
        for (CheckResult r : report.checks()) {
            if (!r.name().equals("shape")) {
                assertTrue(r.maxAbsDifference() >= 0 && r.maxAbsDifference() <= report.atol(), r::toString);
            }
        }
        assertEquals(c.dataType(), report.dataType());
    }

    @Test
    void reportsTheTutorialShapesAndSlices() {
        Case c = cases().findFirst().orElseThrow();
        Fixture f = fixture(c, Engine.REFERENCE);
        VerificationReport report = LayoutVerifier.onAdapter(Engine.REFERENCE).verify(c.config(), f.stateDict(),
                f.input(), f.state(), null, 1e-5);

        assertEquals(List.of(5L, 3L, 40L), report.outputShape());
        assertEquals(List.of(4L, 3L, 20L), report.hnShape());
        assertEquals(List.of(4L, 3L, 20L), report.cnShape());
        List<String> tutorial = report.checks().stream().filter(r -> r.name().equals("tutorial slice = h_n"))
                .map(CheckResult::compared).toList();
        assertEquals(List.of("output[-1, :, :20] vs h_n[2]", "output[0, :, 20:] vs h_n[3]"), tutorial);
    }

    @Test
    void swappedHnEntriesFailTheFinalStepAndTutorialChecksOfThatLayerOnly() {
        Case c = cases().findFirst().orElseThrow();
        LstmFactory swapped = BrokenLstms.swappedHn23();
        VerificationReport report = verifyBroken(c, swapped);

        assertFalse(report.passed());
        for (CheckResult r : report.checks()) {
            boolean topLayerEntry = r.layer() == 1 && r.name().contains("h_n");
            assertEquals(!topLayerEntry, r.passed(), r::toString);
        }
    }

    @Test
    void hnFromThePaddingFailsTheFinalStepChecksOfTheForwardDirection() {
        Case c = cases().filter(x -> x.name().startsWith("2 layers unidirectional, no bias")).findFirst().orElseThrow();
        LstmFactory unpacked = (config, params) -> {
            LstmFactory.Model real = LstmFactory.adapter(Engine.REFERENCE).build(config, params);
            return (x, s, lengths) -> {
                LstmOutput packed = real.forward(x, s, lengths);
                LstmOutput padded = real.forward(x, s, null);
                return new LstmOutput(packed.output(), padded.hN(), packed.cN());
            };
        };
        VerificationReport report = verifyBroken(c, unpacked);

        assertTrue(report.checks().stream().filter(r -> r.name().equals("final step = h_n"))
                .noneMatch(CheckResult::passed));
        assertFalse(report.checks().stream().filter(r -> r.name().equals("tutorial slice = h_n"))
                .anyMatch(CheckResult::passed));
    }

    @Test
    void aWrongCellStateFailsTheTwoChunkChecks() {
        Case c = cases().filter(x -> x.name().startsWith("3 layers unidirectional")).findFirst().orElseThrow();
        VerificationReport report = verifyBroken(c, BrokenLstms.broken((x, s, l, real) ->
                new LstmOutput(real.output(), real.hN(), real.cN().mul(0.5))));

        assertTrue(anyFailed(report, "two chunks: output"), "the second chunk continues from a wrong c");
        assertTrue(anyFailed(report, "two chunks: c_n"));
        assertTrue(report.checks().stream().filter(r -> r.name().equals("final step = h_n"))
                .allMatch(CheckResult::passed));
    }

    @Test
    void aCellStateLostUnderPackingFailsTheCarriedCellCheck() {
        // the DL4J trap: with a mask, the state is zeroed at padded steps and a shorter sample's c_n is lost
        Case c = cases().filter(x -> x.name().startsWith("3 layers unidirectional")).findFirst().orElseThrow();
        VerificationReport report = verifyBroken(c, BrokenLstms.broken((x, s, l, real) -> l == null ? real
                : new LstmOutput(real.output(), real.hN(), real.cN().mul(0))));

        assertEquals(List.of("two chunks: carried c"), report.checks().stream().filter(r -> !r.passed())
                .map(CheckResult::name).toList());
    }

    @Test
    void mixedUpSamplesFailTheSampleAloneChecks() {
        Case c = cases().findFirst().orElseThrow();
        VerificationReport report = verifyBroken(c, BrokenLstms.broken((x, s, l, real) -> {
            if (real.output().size(1) < 2) {
                return real;
            }
            INDArray output = real.output().dup();
            output.get(NDArrayIndex.all(), NDArrayIndex.point(0), NDArrayIndex.all())
                    .assign(real.output().get(NDArrayIndex.all(), NDArrayIndex.point(1), NDArrayIndex.all()));
            return new LstmOutput(output, real.hN(), real.cN());
        }));

        assertTrue(anyFailed(report, "sample alone"));
        assertTrue(report.checks().stream().filter(r -> r.name().equals("shape")).allMatch(CheckResult::passed));
    }

    @Test
    void aWrongShapeFailsTheShapeCheckAndStopsTheOthers() {
        Case c = cases().filter(x -> x.name().startsWith("3 layers unidirectional")).findFirst().orElseThrow();
        VerificationReport report = verifyBroken(c, BrokenLstms.broken((x, s, l, real) ->
                new LstmOutput(real.output().permute(1, 0, 2), real.hN(), real.cN())));

        assertEquals(List.of(false, true, true), report.checks().stream().map(CheckResult::passed).toList());
        assertEquals("output [6, 2, 6] vs (N, L, D*H_out) = [2, 6, 6]", report.checks().get(0).compared());
        assertEquals(1, report.notes().size());
    }

    @Test
    void unbatchedInputIsRejectedWithTheExpectedLayout() {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        TorchLstm lstm = TorchLstm.create(config, Engine.REFERENCE, DataType.FLOAT, 1);
        INDArray unbatched = RandomTensors.normal(DataType.FLOAT, new Random(1), 5, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayoutVerifier
                .onAdapter(Engine.REFERENCE).verify(config, lstm.stateDict(), unbatched, null, null, 1e-5));
        assertEquals("input has shape [5, 3] but a batch (L, N, H_in) was expected: the checks compare samples of "
                + "a batch (verify unbatched input as a batch of one)", e.getMessage());
    }

    @Test
    void theAdaptersOwnShapeErrorsReachTheCaller() {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        TorchLstm lstm = TorchLstm.create(config, Engine.REFERENCE, DataType.FLOAT, 1);
        INDArray input = RandomTensors.normal(DataType.FLOAT, new Random(1), 5, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LayoutVerifier
                .onAdapter(Engine.REFERENCE).verify(config, lstm.stateDict(), input, null, new int[] {5, 6}, 1e-5));
        assertTrue(e.getMessage().contains("lengths[1] = 6"), e.getMessage());
    }

    /** The random weights and inputs of a case. */
    record Fixture(Map<String, INDArray> stateDict, INDArray input, LstmState state) {
    }

    static Fixture fixture(Case c, Engine engine) {
        TorchLstm lstm = TorchLstm.create(c.config(), engine, c.dataType(), 42);
        Random random = new Random(7);
        LstmConfig config = c.config();
        INDArray input = config.batchFirst()
                ? RandomTensors.normal(c.dataType(), random, c.batch(), c.seqLen(), config.inputSize())
                : RandomTensors.normal(c.dataType(), random, c.seqLen(), c.batch(), config.inputSize());
        LstmState state = c.withState() ? new LstmState(
                RandomTensors.normal(c.dataType(), random, config.stateLayers(), c.batch(), config.outputSize()),
                RandomTensors.normal(c.dataType(), random, config.stateLayers(), c.batch(), config.hiddenSize()))
                : null;
        return new Fixture(lstm.stateDict(), input, state);
    }

    private static VerificationReport verifyBroken(Case c, LstmFactory factory) {
        Fixture f = fixture(c, Engine.REFERENCE);
        return new LayoutVerifier("broken", factory).verify(c.config(), f.stateDict(), f.input(), f.state(),
                c.lengths(), Tolerances.forward(c.dataType()));
    }

    private static long count(VerificationReport report, String name) {
        return report.checks().stream().filter(r -> r.name().equals(name)).count();
    }

    private static boolean anyFailed(VerificationReport report, String name) {
        return report.checks().stream().anyMatch(r -> r.name().equals(name) && !r.passed());
    }

    private static int min(int[] values) {
        return java.util.Arrays.stream(values).min().orElseThrow();
    }
}
