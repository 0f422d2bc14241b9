package io.torchlstm4j.weights;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.io.Safetensors;
import io.torchlstm4j.io.TensorFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.torchlstm4j.io.TensorAssertions.assertSameTensor;
import static io.torchlstm4j.io.TensorAssertions.assertSameTensors;
import static io.torchlstm4j.io.TensorAssertions.resource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StateDictsTest {

    @TempDir
    Path dir;

    private static Map<String, INDArray> randomStateDict(LstmConfig config, DataType type) {
        Map<String, INDArray> stateDict = new LinkedHashMap<>();
        TorchParameterNames.expectedShapes(config).forEach((name, shape) -> stateDict.put(name, Nd4j.rand(type, shape)));
        return stateDict;
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"model_rnn_prefix.npz", "model_rnn_prefix.safetensors"})
    void loadKeepsTheKeysUnderThePrefixWithoutIt(String sample) throws IOException {
        Map<String, INDArray> stateDict = StateDicts.load(resource("weights/" + sample), "rnn.");
        assertEquals(List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"),
                List.copyOf(stateDict.keySet()));
        Map<String, INDArray> all = Safetensors.read(resource("weights/model_rnn_prefix.safetensors")).tensors();
        stateDict.forEach((name, tensor) -> assertSameTensor(name, all.get("rnn." + name), tensor));
    }

    @ParameterizedTest
    @ValueSource(strings = {"model_rnn_prefix.npz", "model_rnn_prefix.safetensors"})
    void loadWithoutPrefixOfAPrefixedFileSaysWhichPrefixToPass(String sample) {
        Path file = resource("weights/" + sample);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(file, null));
        assertMessage(e, file + " holds no LSTM parameter (such as weight_ih_l0) at the top level",
                "all its LSTM parameters have the prefix 'rnn.': pass that prefix");
        e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(file, "lstm."));
        assertMessage(e, "no LSTM parameter (such as weight_ih_l0) in " + file + " has the prefix 'lstm.'",
                "prefix 'rnn.'");
    }

    @Test
    void loadOfAModelWithTwoLstmsListsBothPrefixes() throws IOException {
        Path file = dir.resolve("seq2seq.safetensors");
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        randomStateDict(LstmConfig.builder(2, 3).build(), DataType.FLOAT).forEach((k, v) -> tensors.put("enc." + k, v));
        randomStateDict(LstmConfig.builder(3, 3).build(), DataType.FLOAT).forEach((k, v) -> tensors.put("dec." + k, v));
        Safetensors.write(file, tensors, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(file, ""));
        assertMessage(e, "its LSTM parameters have the prefixes 'enc.', 'dec.': pass one");
        assertEquals(4, StateDicts.load(file, "dec.").size());
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.bin", "model"})
    void loadNamesTheFileOfAnUnknownType(String name) {
        Path file = dir.resolve(name);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StateDicts.load(file, ""));
        assertMessage(e, "cannot load a state_dict from " + file + ": a .pt, .pth, .safetensors or .npz file was "
                + "expected");
    }

    /** torch.save(model.state_dict()) in both formats and each dtype: the LSTM as from the same tensors in safetensors. */
    @ParameterizedTest
    @ValueSource(strings = {"model_f32_zip", "model_f32_legacy", "model_f64_zip", "model_f16_legacy", "model_bf16_zip",
            "checkpoint_zip", "checkpoint_legacy"})
    void loadsTheLstmOfAPyTorchCheckpoint(String name) throws IOException {
        Path pt = resource("pt/" + name + ".pt");
        Path expected = resource("pt/" + name + ".expected.safetensors");
        assertSameTensors(StateDicts.load(expected, "rnn."), StateDicts.load(pt, "rnn."));
        TorchLstm lstm = TorchLstm.load(pt, "rnn.", null, Engine.REFERENCE);
        assertEquals(LstmConfig.builder(3, 4).numLayers(2).build(), lstm.config());
        assertSameTensors(TorchLstm.load(expected, "rnn.", null, Engine.REFERENCE).stateDict(), lstm.stateDict());
    }

    @Test
    void aCheckpointKeyChoosesAmongStateDicts() throws IOException {
        Path file = resource("pt/two_models_zip.pt");
        Exception e = assertThrows(IOException.class, () -> StateDicts.load(file, "rnn."));
        assertMessage(e, "holds 2 state_dicts ('student', 'teacher'), 2 with the expected parameter names: name one "
                + "with the checkpoint key");
        assertSameTensors(StateDicts.load(resource("pt/two_models_zip.expected.safetensors"), "rnn."),
                StateDicts.load(file, "rnn.", "teacher"));
        assertEquals(4, TorchLstm.load(file, "rnn.", "student", null, Engine.REFERENCE).config().hiddenSize());
        Path npz = resource("weights/lstm_l2.npz");
        IllegalArgumentException notPt = assertThrows(IllegalArgumentException.class,
                () -> StateDicts.readAll(npz, "model"));
        assertMessage(notPt, "keys name entries of PyTorch .pt/.pth checkpoints only");
    }

    static Stream<LstmConfig> configurations() {
        return Stream.of(
                LstmConfig.builder(3, 4).build(),
                LstmConfig.builder(3, 4).batchFirst(true).build(),
                LstmConfig.builder(5, 2).bidirectional(true).build(),
                LstmConfig.builder(3, 4).numLayers(3).build(),
                LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).bias(false).batchFirst(true).build(),
                LstmConfig.builder(3, 6).projSize(2).build(),
                LstmConfig.builder(3, 6).projSize(4).numLayers(2).bidirectional(true).bias(false).build());
    }

    @ParameterizedTest
    @MethodSource("configurations")
    void inferConfigRecoversTheConfigurationFromTheTensors(LstmConfig config) {
        assertEquals(config, StateDicts.inferConfig(randomStateDict(config, DataType.DOUBLE), config.batchFirst()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"lstm_l2", "lstm_bi_nobias_f64_compressed", "model_rnn_prefix"})
    void inferConfigOfPyTorchStateDictsGivesTheirConstructorArguments(String sample) throws IOException {
        TensorFile twin = Safetensors.read(resource("weights/" + sample + ".safetensors"));
        LstmConfig expected = StateDicts.configFromMetadata(twin.metadata(), sample);
        Map<String, INDArray> stateDict = StateDicts.load(resource("weights/" + sample + ".npz"),
                twin.metadata().get("prefix"));
        assertEquals(expected, StateDicts.inferConfig(stateDict, expected.batchFirst()));
    }

    @Test
    void inferConfigNamesEveryInconsistency() {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).build();
        Map<String, INDArray> stateDict = randomStateDict(config, DataType.FLOAT);
        stateDict.remove("bias_ih_l1");
        stateDict.remove("bias_hh_l1");
        stateDict.put("weight_hh_l1", Nd4j.rand(DataType.FLOAT, 16, 5));
        stateDict.put("weight_ih_l0_reverse", Nd4j.rand(DataType.FLOAT, 16, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StateDicts.inferConfig(stateDict, false));
        assertMessage(e, "LSTM(3, 4, num_layers=2, bidirectional=True)",
                "Missing key(s) in state_dict: \"weight_hh_l0_reverse\"", "\"bias_ih_l1\"", "\"bias_hh_l1\"",
                "size mismatch for weight_hh_l1: copying a param with shape [16, 5], the shape in the current model is [16, 4]");
    }

    @Test
    void inferConfigNeedsAWellShapedWeightIhL0() {
        Map<String, INDArray> noWeight = new LinkedHashMap<>(Map.of("weight_hh_l0", Nd4j.rand(DataType.FLOAT, 8, 2)));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> StateDicts.inferConfig(noWeight, false)),
                "cannot infer the LSTM configuration of state_dict: it has no weight_ih_l0 (keys: [weight_hh_l0])");
        Map<String, INDArray> oddRows = Map.of("weight_ih_l0", Nd4j.rand(DataType.FLOAT, 6, 2));
        assertMessage(assertThrows(IllegalArgumentException.class, () -> StateDicts.inferConfig(oddRows, false)),
                "weight_ih_l0 has shape [6, 2] but (4 * hidden_size, input_size) was expected");
    }

    @Test
    void loadLstmReportsMissingUnexpectedShapeAndDtypeProblemsInOneMessage() throws IOException {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        Map<String, INDArray> stateDict = randomStateDict(config, DataType.FLOAT);
        stateDict.remove("bias_hh_l0");
        stateDict.put("weight_hh_l0", Nd4j.rand(DataType.FLOAT, 16, 3));
        stateDict.put("weight_ih_l0", Nd4j.zeros(DataType.LONG, 16, 3));
        stateDict.put("extra", Nd4j.rand(DataType.FLOAT, 2));
        Path file = dir.resolve("broken.safetensors");
        StateDicts.save(file, stateDict, null, "rnn.");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TorchLstm.load(file, "rnn.", config, Engine.REFERENCE));
        assertMessage(e, file + " (keys under 'rnn.')", "LSTM(3, 4)",
                "Missing key(s) in state_dict: \"bias_hh_l0\"",
                "Unexpected key(s) in state_dict: \"extra\"",
                "size mismatch for weight_hh_l0: copying a param with shape [16, 3], the shape in the current model is [16, 4]",
                "unsupported dtype for weight_ih_l0: LONG");
    }

    @Test
    void saveWritesPyTorchNamesUnderThePrefixAndLoadGivesBackTheSameTensors() throws IOException {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build();
        Map<String, INDArray> stateDict = randomStateDict(config, DataType.FLOAT);
        Path file = dir.resolve("exported.safetensors");
        StateDicts.save(file, stateDict, StateDicts.configMetadata(config), "rnn.");

        TensorFile written = Safetensors.read(file);
        assertEquals("rnn.weight_ih_l0", written.tensors().keySet().iterator().next());
        assertEquals(config, StateDicts.configFromMetadata(written.metadata(), file.toString()));
        assertSameTensors(stateDict, StateDicts.load(file, "rnn."));
        Path again = dir.resolve("again.safetensors");
        StateDicts.save(again, StateDicts.load(file, "rnn."), written.metadata(), "rnn.");
        assertEquals(-1, Files.mismatch(file, again));
    }

    @ParameterizedTest
    @ValueSource(strings = {"lstm_l2.npz", "lstm_bi_nobias_f64_compressed.npz", "lstm_l2.safetensors"})
    void loadLstmThenSaveLstmKeepsTheConfigurationWeightsAndBiasSums(String sample) throws IOException {
        Map<String, INDArray> original = StateDicts.load(resource("weights/" + sample), null);
        TorchLstm lstm = TorchLstm.load(resource("weights/" + sample), null, null, Engine.REFERENCE);
        assertEquals(StateDicts.inferConfig(original, false), lstm.config());
        assertEquals(original.values().iterator().next().dataType(), lstm.dataType());

        Path file = dir.resolve("exported.safetensors");
        StateDicts.save(file, lstm, "rnn.");
        TorchLstm reloaded = TorchLstm.load(file, "rnn.", lstm.config(), Engine.REFERENCE);
        Map<String, INDArray> exported = StateDicts.load(file, "rnn.");
        assertEquals(StateDicts.configMetadata(lstm.config()), Safetensors.read(file).metadata());
        assertEquals(original.keySet(), exported.keySet());
        original.forEach((name, tensor) -> {
            if (name.startsWith("weight")) {
                assertSameTensor(name, tensor, exported.get(name));
            }
        });
        // DL4J holds one bias: the export puts b_ih + b_hh into bias_ih and zeros into bias_hh
        for (String name : original.keySet()) {
            if (name.startsWith("bias_ih")) {
                String hh = name.replace("bias_ih", "bias_hh");
                assertSameTensor(name + " + " + hh, original.get(name).add(original.get(hh)),
                        exported.get(name).add(exported.get(hh)));
            }
        }
        assertSameTensors(exported, reloaded.stateDict());
    }

    @Test
    void configMetadataUsesPyTorchNamesAndReadsPythonBooleans() {
        LstmConfig config = LstmConfig.builder(10, 20).numLayers(2).bidirectional(true).dropout(0.25).build();
        Map<String, String> metadata = StateDicts.configMetadata(config);
        assertEquals("{input_size=10, hidden_size=20, num_layers=2, bias=true, batch_first=false, "
                + "bidirectional=true, proj_size=0, dropout=0.25}", metadata.toString());
        assertEquals(config, StateDicts.configFromMetadata(metadata, "m"));
        Map<String, String> python = new LinkedHashMap<>(metadata);
        python.put("bias", "True");
        python.put("batch_first", "False");
        python.put("bidirectional", "True");
        assertEquals(config, StateDicts.configFromMetadata(python, "m"));
    }

    @Test
    void configFromMetadataNamesEveryBadField() {
        Map<String, String> metadata = new LinkedHashMap<>(StateDicts.configMetadata(LstmConfig.builder(3, 4).build()));
        metadata.remove("hidden_size");
        metadata.put("num_layers", "two");
        metadata.put("bias", "yes");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StateDicts.configFromMetadata(metadata, "fixture.safetensors"));
        assertMessage(e, "metadata of fixture.safetensors", "hidden_size is missing",
                "num_layers is \"two\" but an integer was expected", "bias is \"yes\" but \"true\" or \"false\"");
        metadata.put("hidden_size", "4");
        metadata.put("num_layers", "0");
        metadata.put("bias", "false");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> StateDicts.configFromMetadata(metadata, "f")), "is invalid: num_layers must be greater than zero");
    }
}
