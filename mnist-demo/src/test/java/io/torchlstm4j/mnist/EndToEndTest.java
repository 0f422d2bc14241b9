package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.io.Safetensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jar's commands in-process, on small generated data: train, then evaluate and predict with what it wrote. */
class EndToEndTest {

    @TempDir
    static Path work;
    static Path data;
    static Path out;
    static Cli train;

    @BeforeAll
    static void trainOnce() {
        data = SyntheticIdx.writeDataset(work.resolve("data"), 640, 100, true);
        out = work.resolve("out");
        train = Cli.run("--data", data.toString(), "--batch-size", "16", "--eval-every", "10", "--test-limit", "100",
                "--hidden-size", "32", "--out", out.toString(), "--summary-json", work.resolve("s.json").toString(),
                "--threads", "1", "--seed", "3");
    }

    private static JsonNode summary() throws IOException {
        return new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    }

    private static int[] ints(JsonNode array) {
        int[] v = new int[array.size()];
        for (int i = 0; i < v.length; i++) v[i] = array.get(i).asInt();
        return v;
    }

    @Test
    void trainPrintsTheTutorialsLinesThenPredictionsAndConfusionMatrix() {
        assertEquals(0, train.exitCode(), train.err());
        List<String> lines = train.out().lines().toList();
        Pattern epoch = Pattern.compile("Epoch: 0 \\| train loss: \\d\\.\\d{4} \\| test accuracy: (\\d\\.\\d{2})");
        List<Double> accuracies = new ArrayList<>();
        for (String line : lines) {
            Matcher m = epoch.matcher(line);
            if (m.matches()) accuracies.add(Double.parseDouble(m.group(1)));
        }
        assertEquals(4, accuracies.size(), train.out()); // steps 0, 10, 20, 30 of 40
        assertTrue(lines.get(4).matches("\\[(\\d ){9}\\d] prediction number"), lines.get(4));
        assertTrue(lines.get(5).matches("\\[(\\d ){9}\\d] real number"), lines.get(5));
        assertTrue(lines.get(6).startsWith("test accuracy: "), lines.get(6));
        assertEquals("Confusion matrix (rows: real class, columns: predicted class)", lines.get(7));
        assertEquals(7 + 2 + 10, lines.size());
    }

    /**
     * Chance is 0.1. 40 steps of float32 training are chaotic, so the end point moves with rounding alone (seed 3
     * ends at 0.75 on OpenBLAS's AVX-512 kernels, above 0.8 on its AVX2 ones): the bar is learning, not one
     * trajectory.
     */
    @Test
    void itLearnsTheGeneratedClasses() throws IOException {
        assertTrue(summary().get("final_test_accuracy").asDouble() >= 0.5, summary().toString());
    }

    @Test
    void summaryHasTheFieldsOfTheTutorialScript() throws IOException {
        JsonNode s = summary();
        for (String field : List.of("dataset", "train_examples", "test_examples", "steps", "train_ms_per_step",
                "final_test_accuracy", "first10_pred", "first10_real", "seed", "threads", "engine")) {
            assertTrue(s.has(field), field + " missing in " + s);
        }
        assertEquals(640, s.get("train_examples").asInt());
        assertEquals(100, s.get("test_examples").asInt());
        assertEquals(40, s.get("steps").asInt());
        assertEquals(3, s.get("seed").asInt());
        assertEquals(1, s.get("threads").asInt());
        assertEquals(s, new ObjectMapper().readTree(work.resolve("s.json").toFile()));
        int[][] confusion = new ObjectMapper().convertValue(s.get("confusion_matrix"), int[][].class);
        int total = 0;
        for (int[] row : confusion) for (int c : row) total += c;
        assertEquals(100, total);
    }

    @Test
    void writesModelStateDictPlotAndSummaryAndNoTemporaryFiles() throws IOException {
        try (var files = Files.list(out)) {
            assertEquals(List.of("model.zip", "state_dict.safetensors", "summary.json", "training.png"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        BufferedImage plot = ImageIO.read(out.resolve("training.png").toFile());
        assertEquals(900, plot.getWidth());
        Map<String, ?> sd = Safetensors.read(out.resolve("state_dict.safetensors")).tensors();
        assertEquals(List.of("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
                "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1", "out.weight", "out.bias"),
                new ArrayList<>(sd.keySet()));
    }

    @Test
    void evaluateWithTheModelOrItsStateDictReproducesTheTrainingsPredictions() throws IOException {
        JsonNode s = summary();
        for (String[] model : List.of(new String[]{"--model", out.resolve("model.zip").toString()},
                new String[]{"--torch-weights", out.resolve("state_dict.safetensors").toString()})) {
            Path json = work.resolve("eval" + model[0] + ".json");
            Cli eval = Cli.run("evaluate", model[0], model[1], "--data", data.toString(), "--test-limit", "100",
                    "--summary-json", json.toString());
            assertEquals(0, eval.exitCode(), eval.err());
            JsonNode e = new ObjectMapper().readTree(json.toFile());
            assertEquals(s.get("final_test_accuracy").asDouble(), e.get("final_test_accuracy").asDouble(), 1e-12);
            assertEquals(s.get("confusion_matrix"), e.get("confusion_matrix"));
            assertArrayEquals(ints(s.get("first10_pred")), ints(e.get("first10_pred")));
        }
    }

    @Test
    void predictGivesTheSameClassesForImageFilesLightOnDarkDarkOnLightOrLarger() throws IOException {
        Images test = IdxFiles.read(data.resolve(IdxFiles.TEST_IMAGES + ".gz"), data.resolve(IdxFiles.TEST_LABELS + ".gz"));
        List<String> args = new ArrayList<>(List.of("predict", "--model", out.resolve("model.zip").toString()));
        for (int i = 0; i < 4; i++) {
            args.add(writePng(test, i, false, 1, "plain" + i).toString());
            args.add(writePng(test, i, true, 1, "inverted" + i).toString());
            args.add(writePng(test, i, false, 3, "large" + i).toString());
        }
        Cli predict = Cli.run(args.toArray(String[]::new));
        assertEquals(0, predict.exitCode(), predict.err());
        List<String> lines = predict.out().lines().toList();
        assertEquals(12, lines.size());
        int[] expected = ints(summary().get("first10_pred"));
        for (int i = 0; i < 12; i++) {
            assertTrue(lines.get(i).startsWith(args.get(3 + i) + ": " + expected[i / 3] + " (p="), lines.get(i));
        }
    }

    private static Path writePng(Images images, int index, boolean invert, int scale, String name) throws IOException {
        BufferedImage img = new BufferedImage(28 * scale, 28 * scale, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28 * scale; y++) {
            for (int x = 0; x < 28 * scale; x++) {
                int v = images.pixels()[index * 784 + (y / scale) * 28 + x / scale] & 0xFF;
                img.getRaster().setSample(x, y, 0, invert ? 255 - v : v);
            }
        }
        Path file = work.resolve(name + ".png");
        ImageIO.write(img, "png", file.toFile());
        return file;
    }

    @Test
    void noArgumentsOrOptionsOnlyMeanTrain() {
        assertArrayEquals(new String[]{"train"}, Main.withDefaultCommand(new String[0]));
        assertArrayEquals(new String[]{"train", "--epochs", "2"}, Main.withDefaultCommand(new String[]{"--epochs", "2"}));
        assertArrayEquals(new String[]{"--help"}, Main.withDefaultCommand(new String[]{"--help"}));
    }

    @Test
    void failuresExitWithTheProgramsCodesAndSayErrorAndHintWithoutAStackTrace() throws IOException {
        Cli missing = Cli.run("--data", work.resolve("nope").toString(), "--out", work.resolve("o2").toString());
        assertEquals(ExitCode.BAD_INPUT.code(), missing.exitCode(), missing.err());
        assertEquals("error: --data " + work.resolve("nope") + ": no such folder\n"
                + "hint: give a folder holding MNIST's IDX files, or DIR/MNIST/raw holding them\n", missing.err());

        Cli holdout = Cli.run("--data", data.toString(), "--holdout-from-test", "100", "--out", work.resolve("o3").toString());
        assertEquals(ExitCode.USAGE.code(), holdout.exitCode(), holdout.err());
        assertEquals("error: --holdout-from-test 100 leaves no training images: the test split has 100\n"
                + "hint: 'mnist-demo train --help' lists the options\n", holdout.err());

        Cli zeroEpochs = Cli.run("--epochs", "0");
        assertEquals(ExitCode.USAGE.code(), zeroEpochs.exitCode(), zeroEpochs.err());
        assertTrue(zeroEpochs.err().startsWith("error: --epochs must be at least 1, got 0\n"), zeroEpochs.err());

        Cli notWeights = Cli.run("evaluate", "--torch-weights", out.resolve("summary.json").toString(),
                "--data", data.toString());
        assertEquals(ExitCode.BAD_INPUT.code(), notWeights.exitCode(), notWeights.err());
        assertTrue(notWeights.err().startsWith("error: --torch-weights " + out.resolve("summary.json")
                + ": a .pt, .pth, .safetensors or .npz file was expected\nhint: save the module's state_dict with "), notWeights.err());

        Cli notImage = Cli.run("predict", "--model", out.resolve("model.zip").toString(),
                out.resolve("summary.json").toString());
        assertEquals(ExitCode.BAD_INPUT.code(), notImage.exitCode(), notImage.err());
        assertTrue(notImage.err().startsWith("error: " + out.resolve("summary.json") + ": not an image"),
                notImage.err());

        Path aFile = Files.writeString(work.resolve("a-file"), "not a folder");
        Cli unwritable = Cli.run("--data", data.toString(), "--out", aFile.toString());
        assertEquals(ExitCode.ENVIRONMENT.code(), unwritable.exitCode(), unwritable.err());
        assertTrue(unwritable.err().startsWith("error: " + aFile), unwritable.err());
        assertEquals("", unwritable.out(), "it failed before training");

        Cli usage = Cli.run("evaluate", "--data", data.toString());
        assertEquals(ExitCode.USAGE.code(), usage.exitCode());
        assertTrue(usage.err().startsWith("error: Missing required argument"), usage.err());
        assertTrue(usage.err().endsWith("hint: 'mnist-demo evaluate --help' lists the options\n"), usage.err());

        for (Cli run : List.of(missing, holdout, zeroEpochs, notWeights, notImage, unwritable, usage)) {
            assertFalse(run.err().contains("\tat "), run.err());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "train --help", "evaluate --help", "predict --help"})
    void everyCommandsHelpListsTheExitCodes(String args) {
        Cli help = Cli.run(args.split(" "));
        assertEquals(0, help.exitCode(), help.err());
        assertTrue(help.out().contains("Exit codes:"), help.out());
        for (ExitCode code : ExitCode.values()) {
            assertTrue(help.out().contains(String.format("%2d   %s", code.code(), code.meaning())), help.out());
        }
    }
}
