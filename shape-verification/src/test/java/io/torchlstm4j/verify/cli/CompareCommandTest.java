package io.torchlstm4j.verify.cli;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.verify.RandomTensors;
import io.torchlstm4j.weights.ParityFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code compare} on the PyTorch parity fixtures of the app module (tools/generate_fixtures.py, torch 1.13). */
class CompareCommandTest {

    private static final Path FIXTURES = Path.of("..", "app", "src", "test", "resources", "fixtures");
    /** Has gradients, no initial state: every tensor is comparable on every engine. */
    private static final Path BIDIRECTIONAL = FIXTURES.resolve("bi_l2_batchfirst_f32.safetensors");

    @TempDir
    Path dir;

    @Test
    void aPyTorchFixtureMatchesWithExit0() {
        Cli.Result r = Cli.run("compare", "--engine", "reference", BIDIRECTIONAL.toString(),
                FIXTURES.resolve("lengths_bi_l2_f64.safetensors").toString()).withoutStackTrace();

        assertEquals(0, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().startsWith(BIDIRECTIONAL + ": LSTM(4, 5, num_layers=2, batch_first=True, "
                + "bidirectional=True), float32, torch 1.13"), r::out);
        for (String tensor : new String[] {"output", "h_n", "c_n", "grad_weight_ih_l0", "grad_bias_hh_l1_reverse"}) {
            assertEquals(2, r.out().lines().filter(l -> l.matches(" +" + tensor + " +\\[.*PASS")).count(), r::out);
        }
        assertTrue(r.out().endsWith("2 fixture(s): 2 passed, 0 with mismatches, 0 unsupported, 0 unreadable\n"),
                r::out);
        assertEquals("", r.err());
    }

    @Test
    void aPyTorchFixtureWithADeliberatelyAlteredOutputFailsWithExit1() throws IOException {
        ParityFixture real = ParityFixture.read(BIDIRECTIONAL);
        INDArray output = real.expected().output().dup();
        output.putScalar(new long[] {2, 1, 3}, output.getDouble(2, 1, 3) + 1e-3);
        Path altered = write("altered.safetensors", new ParityFixture(real.config(), real.dataType(),
                real.stateDict(), real.input(), real.initialState(), real.lengths(),
                new LstmOutput(output, real.expected().hN(), real.expected().cN()), real.outputGradient(),
                real.expectedGradients(), real.metadata()));
        Cli.Result r = Cli.run("compare", "--engine", "reference", altered.toString()).withoutStackTrace();

        assertEquals(1, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.matches(" +output +\\[3, 6, 10] +1\\.00e-03 +1\\.00e-05 +"
                + "\\[2, 1, 3] +FAIL")), r::out);
        assertEquals(1, r.out().lines().filter(l -> l.endsWith("FAIL")).count(), r::out);
        assertTrue(r.out().contains("1 fixture(s): 0 passed, 1 with mismatches"), r::out);

        Cli.Result looser = Cli.run("compare", "--engine", "reference", "--atol", "1e-2", altered.toString());
        assertEquals(0, looser.exitCode(), looser::out);
    }

    @Test
    void aFeatureTheEngineDoesNotSupportIsNamedWithExit4() {
        Cli.Result r = Cli.run("compare", "--engine", "reference",
                FIXTURES.resolve("proj_uni_l1_unbatched_f32.safetensors").toString()).withoutStackTrace();

        assertEquals(4, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("UNSUPPORTED: projSize=3"), r::out);
    }

    @Test
    void dropoutIsAnUnsupportedFeatureWithExit4() throws IOException {
        // NOT a PyTorch fixture: recorded from the adapter in eval mode, only to reach the dropout refusal
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).dropout(0.5).build();
        TorchLstm lstm = TorchLstm.create(config, Engine.REFERENCE, DataType.FLOAT, 5);
        INDArray input = RandomTensors.normal(DataType.FLOAT, new Random(11), 5, 2, 3);
        LstmOutput expected = lstm.eval().forward(input);
        Path file = write("dropout.safetensors", new ParityFixture(config, DataType.FLOAT, lstm.stateDict(), input,
                null, null, expected, null, null, Map.of("torch_version", "none (recorded from the adapter)")));
        Cli.Result r = Cli.run("compare", file.toString()).withoutStackTrace();

        assertEquals(4, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().contains("UNSUPPORTED: dropout=0.5: PyTorch's random dropout masks cannot be reproduced"),
                r::out);
    }

    @Test
    void unreadableFilesSayWhichAndWhyWithExit3AndTheOthersStillRun() throws IOException {
        Path missing = dir.resolve("missing.safetensors");
        Path truncated = dir.resolve("truncated.safetensors");
        byte[] bytes = Files.readAllBytes(BIDIRECTIONAL);
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 8));
        Path text = dir.resolve("text.safetensors");
        Files.writeString(text, "hello");
        Cli.Result r = Cli.run("compare", "--engine", "reference", BIDIRECTIONAL.toString(), missing.toString(),
                truncated.toString(), text.toString(), dir.toString()).withoutStackTrace();

        assertEquals(3, r.exitCode(), r.out() + r.err());
        assertTrue(r.err().contains("error: cannot read " + missing + ": no such file"), r::err);
        for (Path bad : new Path[] {truncated, text, dir}) {
            assertTrue(r.err().lines().anyMatch(l -> l.startsWith("error: ") && l.contains(bad.toString())), r::err);
        }
        assertTrue(r.out().contains("5 fixture(s): 1 passed, 0 with mismatches, 0 unsupported, 4 unreadable"),
                r::out);
    }

    @Test
    void jsonListsEveryFixtureWithItsStatus() throws Exception {
        Path proj = FIXTURES.resolve("proj_uni_l1_unbatched_f32.safetensors");
        Cli.Result r = Cli.run("compare", "--json", "--engine", "reference", BIDIRECTIONAL.toString(), proj.toString())
                .withoutStackTrace();

        assertEquals(4, r.exitCode(), r::err);
        JsonNode json = new ObjectMapper().readTree(r.out());
        JsonNode first = json.get("fixtures").get(0);
        assertEquals("pass", first.get("status").asText());
        assertEquals("output", first.get("tensors").get(0).get("name").asText());
        assertEquals("[3,6,10]", first.get("tensors").get(0).get("shape").toString());
        assertTrue(first.get("tensors").get(0).get("max_abs_difference").asDouble() <= 1e-5);
        assertEquals(3 + 16, first.get("tensors").size(), "output, h_n, c_n and 4 gradients per layer and direction");
        assertEquals("unsupported", json.get("fixtures").get(1).get("status").asText());
        assertTrue(json.get("fixtures").get(1).get("unsupported").asText().startsWith("projSize=3"));
        assertEquals(4, json.get("exit_code").asInt());
    }

    /** Whatever the engine, no fixture of a representative set may mismatch; a refusal must name its feature. */
    @ParameterizedTest
    @EnumSource(Engine.class)
    void noRecordedTensorDiffersOnAnyEngine(Engine engine) throws Exception {
        String[] files = Stream.of("bi_l2_state_f32", "lengths_bi_l2_state_batchfirst_f64", "unbatched_bi_l1_f64",
                        "long_uni_l1_h128_L50_f32", "uni_l3_state_f32", "proj_uni_l1_unbatched_f32")
                .map(name -> FIXTURES.resolve(name + ".safetensors").toString()).toArray(String[]::new);
        String[] args = Stream.concat(Stream.of("compare", "--json", "--engine", engine.name()), Stream.of(files))
                .toArray(String[]::new);
        Cli.Result r = Cli.run(args).withoutStackTrace();

        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(files.length, json.get("fixtures").size());
        for (JsonNode fixture : json.get("fixtures")) {
            String status = fixture.get("status").asText();
            assertTrue(status.equals("pass") || status.equals("unsupported"), fixture::toString);
            assertFalse(fixture.get("tensors").isEmpty() && status.equals("pass"), fixture::toString);
            for (JsonNode tensor : fixture.get("tensors")) {
                assertTrue(tensor.get("passed").asBoolean(), tensor::toString);
            }
            if (status.equals("unsupported")) {
                assertFalse(fixture.get("unsupported").asText().isBlank(), fixture::toString);
            }
        }
        assertTrue(r.exitCode() == 0 || r.exitCode() == 4, r::err);
    }

    private Path write(String name, ParityFixture fixture) throws IOException {
        Path file = dir.resolve(name);
        fixture.write(file);
        return file;
    }
}
