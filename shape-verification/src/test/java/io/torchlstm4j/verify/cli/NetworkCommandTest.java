package io.torchlstm4j.verify.cli;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.verify.Dl4jNetworks;
import io.torchlstm4j.weights.StateDicts;
import io.torchlstm4j.weights.TorchInit;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code network} on networks of DL4J's own LSTM and Bidirectional(LSTM) layers saved with ModelSerializer. */
class NetworkCommandTest {

    private static final LstmConfig TUTORIAL = LstmConfig.builder(10, 20).numLayers(2).bidirectional(true).build();
    private static final Path CHAR_LM = Path.of("..", "app", "src", "test", "resources", "char_lm",
            "char_lm.safetensors");

    @TempDir
    Path dir;

    private static MultiLayerNetwork tutorialWithHead() {
        return Dl4jNetworks.of(TUTORIAL, DataType.FLOAT, new RnnOutputLayer.Builder(LossFunctions.LossFunction.MSE)
                .nIn(40).nOut(3).activation(Activation.IDENTITY).build());
    }

    private Path save(MultiLayerNetwork net) throws IOException {
        return Dl4jNetworks.save(net, dir.resolve("model.zip"));
    }

    @Test
    void theTutorialsBidirectionalModelPrintsItsLayoutAndPassesAgainstTheAdapter() throws IOException {
        Path model = save(tutorialWithHead());
        Cli.Result r = Cli.run("network", model.toString()).withoutStackTrace();
        System.out.println(r.out());

        assertEquals(0, r.exitCode(), r.out() + r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(model + ": DL4J layers [layer0, layer1], float32", lines.get(0));
        assertTrue(lines.get(1).matches("dl4j layer +dl4j type +layer +direction +h_n index +dl4j params +pytorch "
                + "parameters +nIn +hidden"), lines.get(1));
        assertTrue(lines.get(2).matches("layer0 +Bidirectional\\(CONCAT, LSTM\\) +0 +forward +0 +fW, fRW, fb +"
                + "weight_ih_l0, weight_hh_l0, bias_ih_l0 \\+ bias_hh_l0 +10 +20"), lines.get(2));
        assertTrue(lines.get(5).matches("layer1 +Bidirectional\\(CONCAT, LSTM\\) +1 +backward +3 +bW, bRW, bb +"
                + "weight_ih_l1_reverse, weight_hh_l1_reverse, bias_ih_l1_reverse \\+ bias_hh_l1_reverse +40 +20"),
                lines.get(5));
        assertEquals("holding LSTM(10, 20, num_layers=2, bidirectional=True)", lines.get(6));
        assertTrue(r.out().lines().anyMatch(l -> l.matches("final step = h_n +1 +backward +dl4j output_l1\\[0, :, "
                + "20:] vs adapter h_n\\[3] +\\S+ +PASS")), r::out);
        assertTrue(r.out().contains("not run: c_n: DL4J's Bidirectional wrapper exposes no state"), r::out);
        assertTrue(r.out().endsWith("all 5 checks passed\n"), r::out);
    }

    @Test
    void aPyTorchCheckpointLoadsIntoPlainLstmLayersAndMatchesOnBothEngines() throws IOException {
        // the README's character-level model: embed.weight, rnn.*, fc.* (tools/make_char_lm.py)
        Path model = save(Dl4jNetworks.of(LstmConfig.builder(16, 64).numLayers(2).build(), DataType.FLOAT));
        for (String engine : new String[] {"fast", "reference"}) {
            Cli.Result r = Cli.run("network", model.toString(), "--torch-weights", CHAR_LM.toString(), "--prefix",
                    "rnn.", "--engine", engine).withoutStackTrace();

            assertEquals(0, r.exitCode(), r.out() + r.err());
            assertTrue(r.out().contains("weights: " + CHAR_LM + ", keys under 'rnn.'"), r::out);
            assertTrue(r.out().contains("reference: TorchLstm on engine " + engine.toUpperCase()), r::out);
            // per layer: DL4J's own h, adapter h_n, adapter c_n; then the output
            assertTrue(r.out().endsWith("all 7 checks passed\n"), r::out);
        }
    }

    @Test
    void withoutThePrefixTheUsageErrorSaysWhichToPass() throws IOException {
        Path model = save(Dl4jNetworks.of(LstmConfig.builder(16, 64).numLayers(2).build(), DataType.FLOAT));
        Cli.Result r = Cli.run("network", model.toString(), "--torch-weights", CHAR_LM.toString())
                .withoutStackTrace();

        assertEquals(2, r.exitCode(), r::err);
        assertTrue(r.err().contains("all its LSTM parameters have the prefix 'rnn.': pass that prefix"), r::err);
    }

    static Stream<Arguments> mismatches() {
        Supplier<MultiLayerNetwork> tutorial = NetworkCommandTest::tutorialWithHead;
        return Stream.of(
                Arguments.of("layer count", tutorial, LstmConfig.builder(10, 20).numLayers(3).bidirectional(true)
                        .build(), List.of(), "MISMATCH: the state_dict has 3 LSTM layer(s) (weight_ih_l0 .. "
                        + "weight_ih_l2) but the DL4J network has 2: [layer0, layer1]"),
                Arguments.of("sizes", tutorial, LstmConfig.builder(10, 16).numLayers(2).bidirectional(true).build(),
                        List.of(), "MISMATCH: size mismatch for weight_ih_l0: copying a param with shape [64, 10], "
                        + "the shape in the current model is [80, 10]"),
                Arguments.of("a direction missing", tutorial, LstmConfig.builder(10, 20).numLayers(2).build(),
                        List.of(), "MISMATCH: layer 1: DL4J layer 'layer1' is Bidirectional but the state_dict has "
                        + "no backward direction (no weight_ih_l1_reverse)"),
                Arguments.of("a layer that is not an LSTM", tutorial, null, List.of("--layers", "0,2"),
                        "MISMATCH: DL4J layer 'layer2' is RnnOutputLayer, not an LSTM (nor Bidirectional(LSTM))"),
                Arguments.of("GravesLSTM", (Supplier<MultiLayerNetwork>) () -> Dl4jNetworks.of(DataType.FLOAT,
                        new GravesLSTM.Builder().nIn(4).nOut(5).activation(Activation.TANH).build()), null, List.of(),
                        "MISMATCH: DL4J layer 'layer0' is GravesLSTM, which has peephole connections that nn.LSTM "
                        + "does not have"),
                Arguments.of("activation", (Supplier<MultiLayerNetwork>) () -> Dl4jNetworks.of(DataType.FLOAT,
                        new LSTM.Builder().nIn(4).nOut(5).build()), null, List.of(),
                        "MISMATCH: DL4J layer 'layer0' has activation sigmoid but nn.LSTM uses tanh"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mismatches")
    void eachMismatchIsNamedWithExit3(String what, Supplier<MultiLayerNetwork> network, LstmConfig stateDict,
                                      List<String> options, String expected) throws IOException {
        List<String> args = new ArrayList<>(List.of("network", save(network.get()).toString()));
        args.addAll(options);
        if (stateDict != null) {
            Path weights = dir.resolve("weights.safetensors");
            StateDicts.save(weights, TorchInit.lstmStateDict(stateDict, DataType.FLOAT, 1), null, "rnn.");
            args.addAll(List.of("--torch-weights", weights.toString(), "--prefix", "rnn."));
        }
        Cli.Result r = Cli.run(args.toArray(String[]::new)).withoutStackTrace();

        assertEquals(1, r.exitCode(), r.out() + r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith(expected)), () -> expected + "\nin:\n" + r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("\\d+ mismatch\\(es\\)")), r::out);
    }

    @Test
    void aFileThatIsNotADl4jModelExitsWith3AndSaysWhy() throws IOException {
        Path notAModel = Files.writeString(dir.resolve("model.zip"), "not a zip");
        Cli.Result r = Cli.run("network", notAModel.toString()).withoutStackTrace();

        assertEquals(3, r.exitCode(), r::err);
        assertTrue(r.err().startsWith("error: cannot read " + notAModel + " as a DL4J model saved with "
                + "ModelSerializer: "), r::err);
        Cli.Result missing = Cli.run("network", dir.resolve("nope.zip").toString()).withoutStackTrace();
        assertEquals(3, missing.exitCode(), missing::err);
        assertTrue(missing.err().contains("no such file"), missing::err);
    }
}
