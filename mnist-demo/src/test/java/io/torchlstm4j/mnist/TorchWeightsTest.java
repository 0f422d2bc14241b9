package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A state_dict saved from the tutorial's PyTorch module gives PyTorch's predictions (golden logits from
 * mnist-demo/tools/make_test_fixtures.py: RNN(28, 16, num_layers=2) trained 100 steps in PyTorch).
 */
class TorchWeightsTest {

    @ParameterizedTest
    @ValueSource(strings = {"rnn16.safetensors", "rnn16.npz", "rnn16.pt", "rnn16_checkpoint.pth",
            "rnn16_checkpoint.pth --checkpoint-key model"})
    void evaluateWithTorchWeightsGivesPytorchsPredictions(String fileAndOptions) throws IOException {
        JsonNode golden = TestData.json("torch-weights/predictions.json");
        String[] words = fileAndOptions.split(" ");
        String file = words[0];
        Path json = Path.of(System.getProperty("java.io.tmpdir"), "torch-eval-" + file + words.length + ".json");
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("evaluate", "--torch-weights",
                TestData.resource("torch-weights/" + file).toString(), "--data",
                TestData.resource("mnist-subset").toString(), "--test-limit", "112", "--summary-json", json.toString()));
        args.addAll(java.util.Arrays.asList(words).subList(1, words.length));
        Cli eval = Cli.run(args.toArray(String[]::new));
        assertEquals(0, eval.exitCode(), eval.err());
        JsonNode summary = new ObjectMapper().readTree(json.toFile());
        assertEquals(golden.get("accuracy").asDouble(), summary.get("final_test_accuracy").asDouble(), 1e-6);
        for (int i = 0; i < 10; i++) {
            assertEquals(golden.get("predictions").get(i).asInt(), summary.get("first10_pred").get(i).asInt());
        }
    }

    @Test
    void probabilitiesAreTheSoftmaxOfPytorchsLogitsForEveryImage() throws IOException {
        JsonNode golden = TestData.json("torch-weights/predictions.json");
        Map<String, INDArray> sd = Safetensors.read(TestData.resource("torch-weights/rnn16.safetensors")).tensors();
        TutorialModel model = TutorialModel.fromStateDict(sd, Engine.REFERENCE, 0.01, DataType.FLOAT, "rnn16");
        assertEquals(TutorialModel.lstmConfig(28, 16, 2), model.lstmConfig());
        Images images = TestData.subset();
        int n = golden.get("logits").size();
        INDArray probabilities = model.probabilities(images.features(Images.indices(0, n), DataType.FLOAT));
        double[][] logits = new ObjectMapper().convertValue(golden.get("logits"), double[][].class);
        INDArray expected = Transforms.softmax(Nd4j.create(logits).castTo(DataType.FLOAT), false);
        double worst = probabilities.sub(expected).amaxNumber().doubleValue();
        assertTrue(worst < 1e-5, "largest probability difference to PyTorch: " + worst);
        for (int i = 0; i < n; i++) {
            assertEquals(golden.get("predictions").get(i).asInt(), probabilities.getRow(i).argMax().getInt(0), "image " + i);
        }
    }

    @Test
    void aWrongCheckpointKeyIsAnErrorNamingTheStateDictsFound() {
        Path file = TestData.resource("torch-weights/rnn16_checkpoint.pth");
        Cli eval = Cli.run("evaluate", "--torch-weights", file.toString(), "--checkpoint-key", "ema",
                "--data", TestData.resource("mnist-subset").toString(), "--test-limit", "4");
        assertEquals(ExitCode.BAD_INPUT.code(), eval.exitCode(), eval.err());
        assertEquals("error: " + file + " has no state_dict (a dict of tensors) under the checkpoint key 'ema' "
                + "(state_dicts found: 'model')\n", eval.err());
    }

    @Test
    void aStateDictOfAnotherModuleIsRejectedNamingTheKeys() throws IOException {
        Map<String, INDArray> sd = new java.util.LinkedHashMap<>(
                Safetensors.read(TestData.resource("torch-weights/rnn16.safetensors")).tensors());
        sd.remove("out.bias");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TutorialModel.fromStateDict(sd, Engine.REFERENCE, 0.01, DataType.FLOAT, "rnn16"));
        assertEquals("Error(s) in loading state_dict from rnn16 for Model(rnn: LSTM(28, 16, num_layers=2, "
                + "batch_first=True), out: Linear(in_features=16, out_features=10, bias=True)):\n"
                + "\tMissing key(s) in state_dict: \"out.bias\".", e.getMessage());
    }
}
