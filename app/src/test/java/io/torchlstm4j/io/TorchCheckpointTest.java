package io.torchlstm4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.torchlstm4j.io.TensorAssertions.assertRejected;
import static io.torchlstm4j.io.TensorAssertions.assertSameTensors;
import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * Every fixture of tools/make_pt_fixtures.py read as PyTorch's torch.load reads it (bit for bit; float16 and
 * bfloat16 against PyTorch's own .float()), and every refused one refused with the global it names.
 */
class TorchCheckpointTest {

    private static final Path DIR = resource("pt");

    static Stream<Arguments> loadable() throws IOException {
        JsonNode fixtures = new ObjectMapper().readTree(DIR.resolve("manifest.json").toFile()).get("fixtures");
        List<Arguments> cases = new ArrayList<>();
        fixtures.fields().forEachRemaining(e -> {
            if (!e.getValue().path("refused").asBoolean()) {
                JsonNode key = e.getValue().get("checkpoint_key");
                cases.add(arguments(e.getKey(), key.isNull() ? null : key.asText()));
            }
        });
        return cases.stream();
    }

    @Test
    void manifestRecordsTheTorchVersionAndEveryFixture() throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(DIR.resolve("manifest.json").toFile());
        assertTrue(manifest.get("torch_version").asText().startsWith("1.13"), manifest.get("torch_version").asText());
        assertEquals(16, loadable().count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("loadable")
    void readsEachFixtureAsTorchLoadDoes(String name, String key) throws IOException {
        Path file = DIR.resolve(name);
        Map<String, INDArray> expected = Safetensors.read(DIR.resolve(name.replace(".pt", ".expected.safetensors")))
                .tensors();
        assertSameTensors(expected, comparable(TorchCheckpoint.read(file, key, k -> true)));
        // the same bytes from memory, as the fuzzing entry point reads them
        assertSameTensors(expected, comparable(TorchCheckpoint.read(Files.readAllBytes(file), name, key, k -> true)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"checkpoint_zip.pt", "checkpoint_legacy.pt"})
    void findsTheStateDictOfATrainingCheckpointWithoutItsKey(String name) throws IOException {
        Map<String, INDArray> expected = Safetensors.read(DIR.resolve(name.replace(".pt", ".expected.safetensors")))
                .tensors();
        assertSameTensors(expected, comparable(TorchCheckpoint.read(DIR.resolve(name))));
    }

    @Test
    void twoStateDictsNeedTheKeyOrExpectedNames() throws IOException {
        Path file = DIR.resolve("two_models_zip.pt");
        assertRejected(file, () -> TorchCheckpoint.read(file),
                "holds 2 state_dicts ('student', 'teacher'), 2 with the expected parameter names: name one with the "
                        + "checkpoint key");
        assertRejected(file, () -> TorchCheckpoint.read(file, "model", k -> true),
                "has no state_dict (a dict of tensors) under the checkpoint key 'model' (state_dicts found: "
                        + "'student', 'teacher')");
        assertRejected(file, () -> TorchCheckpoint.read(file, null, k -> k.startsWith("decoder.")),
                "holds 2 state_dicts ('student', 'teacher'), none with the expected parameter names");
    }

    @Test
    void expectedNamesChooseAmongStateDicts() throws IOException {
        // the optimizer's per-parameter state is a dict of tensors under integer keys: not a candidate
        Map<String, INDArray> sd = TorchCheckpoint.read(DIR.resolve("checkpoint_zip.pt"), null,
                k -> k.startsWith("rnn."));
        assertTrue(sd.containsKey("rnn.weight_ih_l0"), sd.keySet().toString());
    }

    @Test
    void keepsTheTypesOfEntriesThatAreNotParameters() throws IOException {
        Map<String, INDArray> sd = TorchCheckpoint.read(DIR.resolve("model_f16_zip.pt"));
        assertEquals(DataType.FLOAT, sd.get("rnn.weight_ih_l0").dataType());
        assertEquals(DataType.LONG, sd.get("norm.num_batches_tracked").dataType());
        assertEquals(1L, sd.get("norm.num_batches_tracked").getLong(0));
        Map<String, INDArray> views = TorchCheckpoint.read(DIR.resolve("views_legacy.pt"));
        assertEquals(DataType.BOOL, views.get("flags").dataType());
        assertEquals(0, views.get("scalar").rank());
        assertFalse(views.get("transposed").isView() && views.get("transposed").ordering() != 'c');
    }

    static Stream<Arguments> refused() {
        String notAllowed = "which is not allowed: a checkpoint may only name the globals that rebuild tensors and "
                + "containers, as with torch.load(..., weights_only=True); nothing in the file was run";
        String module = "holds a whole pickled torch.nn.Module (torch.save(model)), which cannot be read without "
                + "running its Python code";
        return Stream.of(
                arguments("evil_os_system.pt", List.of("the global 'posix.system', " + notAllowed)),
                arguments("evil_os_system_legacy.pt", List.of("the global 'posix.system', " + notAllowed)),
                arguments("evil_eval.pt", List.of("the global '__builtin__.eval', " + notAllowed)),
                arguments("evil_numpy.pt", List.of("the global 'numpy.core.multiarray._reconstruct', " + notAllowed)),
                arguments("evil_java.pt", List.of("the global 'java.lang.Runtime', " + notAllowed)),
                arguments("module_zip.pt", List.of(module, "(the global '__main__.TinyModel' is not allowed): "
                        + "save model.state_dict() instead")),
                arguments("module_legacy.pt", List.of(module, "(the global '__main__.TinyModel' is not allowed): "
                        + "save model.state_dict() instead")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void refusesPicklesThatNameOtherGlobals(String name, List<String> parts) {
        Path file = DIR.resolve(name);
        assertRejected(file, () -> TorchCheckpoint.read(file), parts.toArray(String[]::new));
    }

    /** The reader's BOOL as the expected file's I64 (safetensors_io has no bool), everything else as it is. */
    private static Map<String, INDArray> comparable(Map<String, INDArray> tensors) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> out.put(k, v.dataType() == DataType.BOOL ? v.castTo(DataType.LONG) : v));
        return out;
    }
}
