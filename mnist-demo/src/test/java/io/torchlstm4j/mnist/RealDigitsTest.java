package io.torchlstm4j.mnist;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo on the real MNIST test split in the project's shared data folder (../shared/data/mnist beside the
 * repository; override with -Dmnist.real.dir=DIR): train on images 2000.. (a few steps), evaluate on the first 2000.
 */
class RealDigitsTest {

    @TempDir
    Path work;

    @Test
    void trainsOnTheRealDigitsWithTheFirstTwoThousandHeldOut() throws IOException {
        Path real = Path.of(System.getProperty("mnist.real.dir", "../../shared/data/mnist"));
        assertTrue(Files.isDirectory(real), "the real MNIST folder " + real.toAbsolutePath() + " is missing");
        Path summary = work.resolve("summary.json");
        Cli run = Cli.run("--data", real.toString(), "--holdout-from-test", "2000", "--train-limit", "1920",
                "--eval-every", "10", "--no-progress", "--threads", "1", "--out", work.resolve("out").toString(),
                "--summary-json", summary.toString());
        assertEquals(0, run.exitCode(), run.err());
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertEquals(1920, s.get("train_examples").asInt());
        assertEquals(2000, s.get("test_examples").asInt());
        assertEquals(30, s.get("steps").asInt());
        Images test = new DataLocator(work, work, null, line -> { }).locate(real, false).test();
        for (int i = 0; i < 10; i++) {
            assertEquals(test.label(i), s.get("first10_real").get(i).asInt());
        }
        assertTrue(s.get("final_test_accuracy").asDouble() > 0.2, "30 steps should beat chance (0.1) clearly: " + s);
        assertTrue(run.out().startsWith("Epoch: 0 | train loss: "), run.out());
    }
}
