package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.io.Safetensors;
import io.torchlstm4j.io.TensorFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.torchlstm4j.io.TensorAssertions.assertRejected;
import static io.torchlstm4j.io.TensorAssertions.assertSameTensor;
import static io.torchlstm4j.io.TensorAssertions.assertSameTensors;
import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class ParityFixtureTest {

    @TempDir
    Path dir;

    static Stream<Path> committedFixtures() throws IOException {
        try (Stream<Path> files = Files.list(resource("fixtures"))) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
            assertTrue(list.size() >= 4, "committed fixtures: " + list);
            return list.stream();
        }
    }

    @ParameterizedTest
    @MethodSource("committedFixtures")
    void readsEveryPyTorchFixtureAndWritesItBackByteIdentical(Path file) throws IOException {
        ParityFixture fixture = ParityFixture.read(file);
        TensorFile raw = Safetensors.read(file);
        assertEquals(StateDicts.configFromMetadata(raw.metadata(), file.toString()), fixture.config());
        assertEquals(TorchParameterNames.expectedShapes(fixture.config()).keySet(), fixture.stateDict().keySet());
        assertSameTensor("output", raw.tensors().get("output"), fixture.expected().output());
        assertEquals(raw.tensors().containsKey("grad_output"), !fixture.expectedGradients().isEmpty());
        Path copy = dir.resolve(file.getFileName());
        fixture.write(copy);
        assertEquals(-1, Files.mismatch(file, copy), file + " written back differs");
    }

    @Test
    void readsLengthsGradientsAndConfigurationsTheLibraryCannotRunYet() throws IOException {
        ParityFixture lengths = ParityFixture.read(resource("fixtures/lengths_bi_l1_nobias_f32.safetensors"));
        assertArrayEquals(Safetensors.read(resource("fixtures/lengths_bi_l1_nobias_f32.safetensors")).tensors()
                .get("lengths").toIntVector(), lengths.lengths());
        assertEquals(LstmConfig.builder(4, 5).bidirectional(true).bias(false).build(), lengths.config());
        assertEquals(lengths.stateDict().keySet(), lengths.expectedGradients().keySet());

        ParityFixture proj = ParityFixture.read(resource("fixtures/proj_uni_l1_unbatched_f32.safetensors"));
        assertEquals(3, proj.config().projSize());
        assertEquals(2, proj.input().rank());
        assertNull(proj.initialState());
        assertNull(proj.lengths());

        ParityFixture f64 = ParityFixture.read(resource("fixtures/uni_l2_f64.safetensors"));
        assertEquals(DataType.DOUBLE, f64.dataType());
    }

    @Test
    void aFixtureBuiltInJavaRoundTripsWithItsConfigurationInTheMetadata() throws IOException {
        LstmConfig config = LstmConfig.builder(2, 3).numLayers(2).batchFirst(true).dropout(0.5).build();
        Nd4j.getRandom().setSeed(3);
        Map<String, INDArray> stateDict = new LinkedHashMap<>();
        TorchParameterNames.expectedShapes(config).forEach((k, s) -> stateDict.put(k, Nd4j.rand(DataType.DOUBLE, s)));
        ParityFixture fixture = new ParityFixture(config, DataType.DOUBLE, stateDict,
                Nd4j.rand(DataType.DOUBLE, 4, 5, 2),
                new LstmState(Nd4j.rand(DataType.DOUBLE, 2, 4, 3), Nd4j.rand(DataType.DOUBLE, 2, 4, 3)),
                new int[] {5, 1, 3, 2},
                new LstmOutput(Nd4j.rand(DataType.DOUBLE, 4, 5, 3), Nd4j.rand(DataType.DOUBLE, 2, 4, 3),
                        Nd4j.rand(DataType.DOUBLE, 2, 4, 3)),
                null, Map.of(), Map.of("note", "made in Java"));
        Path file = dir.resolve("java.safetensors");
        fixture.write(file);
        ParityFixture read = ParityFixture.read(file);
        assertEquals(config, read.config());
        assertArrayEquals(new int[] {5, 1, 3, 2}, read.lengths());
        assertSameTensors(stateDict, read.stateDict());
        assertSameTensor("h0", fixture.initialState().h(), read.initialState().h());
        assertSameTensor("c_n", fixture.expected().cN(), read.expected().cN());
        assertEquals("made in Java", read.metadata().get("note"));
        assertEquals("0.5", read.metadata().get("dropout"));
        assertEquals("true", read.metadata().get("batch_first"));
        Path again = dir.resolve("again.safetensors");
        read.write(again);
        assertEquals(-1, Files.mismatch(file, again));
    }

    /** A broken copy of uni_l1_f32 (LSTM(4, 5), input (6, 3, 4), with gradients). */
    private static Arguments broken(String name, Consumer<Map<String, INDArray>> tensors,
                                    Consumer<Map<String, String>> metadata, String... expected) {
        return arguments(name, tensors, metadata, expected);
    }

    private static Consumer<Map<String, String>> same() {
        return m -> { };
    }

    static Stream<Arguments> brokenFixtures() {
        return Stream.of(
                broken("output missing", t -> t.remove("output"), same(), "missing tensor(s): output"),
                broken("parameters missing", t -> t.keySet().removeIf(StateDicts::isParameterName), same(),
                        "missing tensor(s): the LSTM parameters (weight_ih_l0, ...)"),
                broken("h0 without c0", t -> t.put("h0", Nd4j.rand(DataType.FLOAT, 1, 3, 5)), same(),
                        "h0 is present but c0 is not (both or neither)"),
                broken("unknown tensor", t -> t.put("hn", Nd4j.rand(DataType.FLOAT, 1, 3, 5)), same(),
                        "unexpected tensor(s) [hn]"),
                broken("bias not a boolean", t -> { }, m -> m.put("bias", "yes"),
                        "bias is \"yes\" but \"true\" or \"false\" was expected"),
                broken("hidden_size missing", t -> { }, m -> m.remove("hidden_size"), "hidden_size is missing"),
                broken("metadata says bidirectional", t -> { }, m -> m.put("bidirectional", "true"),
                        "Missing key(s) in state_dict: \"weight_ih_l0_reverse\"", "output has shape [6, 3, 5] but "
                                + "(L, N, D * H_out) = [6, 3, 10] was expected"),
                broken("h_n in float64", t -> t.put("h_n", t.get("h_n").castTo(DataType.DOUBLE)), same(),
                        "all float tensors must share the fixture's dtype FLOAT, but [h_n is DOUBLE]"),
                broken("lengths in float32", t -> t.put("lengths", Nd4j.createFromArray(6f, 6f, 6f)), same(),
                        "lengths is FLOAT [3] but I64 [N] was expected"),
                broken("lengths of the wrong count", t -> t.put("lengths", Nd4j.createFromArray(6L, 6L)), same(),
                        "lengths has 2 values but N = 3 was expected"),
                broken("lengths longer than L", t -> t.put("lengths", Nd4j.createFromArray(6L, 7L, 6L)), same(),
                        "lengths[1] is 7 but 1..L = 1..6 was expected"),
                broken("lengths zero", t -> t.put("lengths", Nd4j.createFromArray(6L, 0L, 6L)), same(),
                        "lengths[1] is 0 but a positive int was expected"),
                broken("input with wrong features", t -> t.put("input", Nd4j.rand(DataType.FLOAT, 6, 3, 7)), same(),
                        "input has 7 features (shape [6, 3, 7]) but H_in = input_size = 4 was expected"),
                broken("c_n of the wrong shape", t -> t.put("c_n", Nd4j.rand(DataType.FLOAT, 1, 7, 5)), same(),
                        "c_n has shape [1, 7, 5] but (numLayers * D, N, H_cell) = [1, 3, 5] was expected"),
                broken("a gradient missing", t -> t.remove("grad_weight_hh_l0"), same(),
                        "grad_weight_hh_l0 is missing (gradients are given for every parameter or none)"),
                broken("grad_output missing", t -> t.remove("grad_output"), same(),
                        "grad_<parameter> tensors are present but grad_output is not"),
                broken("everything at once", t -> {
                    t.remove("output");
                    t.put("extra", Nd4j.rand(DataType.FLOAT, 1));
                    t.put("c0", Nd4j.rand(DataType.FLOAT, 1, 3, 5));
                }, m -> m.put("batch_first", "maybe"), "missing tensor(s): output", "unexpected tensor(s) [extra]",
                        "c0 is present but h0 is not", "batch_first is \"maybe\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenFixtures")
    void rejectsWithEveryProblemNamed(String name, Consumer<Map<String, INDArray>> breakTensors,
                                      Consumer<Map<String, String>> breakMetadata, String[] expected)
            throws IOException {
        TensorFile good = Safetensors.read(resource("fixtures/uni_l1_f32.safetensors"));
        Map<String, INDArray> tensors = new LinkedHashMap<>(good.tensors());
        Map<String, String> metadata = new LinkedHashMap<>(good.metadata());
        breakTensors.accept(tensors);
        breakMetadata.accept(metadata);
        Path file = dir.resolve(name.replace(' ', '_') + ".safetensors");
        Safetensors.write(file, tensors, metadata);
        String[] parts = Stream.concat(Stream.of(file + " is not a valid parity fixture"), Stream.of(expected))
                .toArray(String[]::new);
        assertRejected(file, () -> ParityFixture.read(file), parts);
    }
}
