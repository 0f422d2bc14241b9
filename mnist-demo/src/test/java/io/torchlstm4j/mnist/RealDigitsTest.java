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
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The program as the README's Quick start runs it, with no data beside it and the download failing (an unreachable
 * mirror): it trains on the embedded MNIST test split (a few steps here) and evaluates on its first 2000 images.
 */
class RealDigitsTest {

    @TempDir
    Path work;

    @Test
    void withoutDataOrNetworkItTrainsOnTheEmbeddedSplit() throws IOException {
        assumeFalse(Files.exists(DataLocator.DEFAULT_RAW), "a ./" + DataLocator.DEFAULT_RAW + " folder would be used");
        Path summary = work.resolve("summary.json");
        Cli run = Cli.run("--mirror", "http://127.0.0.1:1/", "--train-limit", "1920", "--eval-every", "10",
                "--no-progress", "--threads", "1", "--out", work.resolve("out").toString(),
                "--summary-json", summary.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("NOTICE: MNIST is not in ")
                && l.endsWith("training on its last 8000 images, evaluating on its first 2000.")), run.err());
        assertTrue(run.err().lines().anyMatch(l -> l.startsWith("Downloading MNIST (")
                && l.contains("11.6 MB) from http://127.0.0.1:1/ into ")), run.err());
        assertTrue(!Files.exists(DataLocator.DEFAULT_RAW), "the failed download left ./mnist behind");
        JsonNode s = new ObjectMapper().readTree(summary.toFile());
        assertEquals(EmbeddedMnist.NAME, s.get("dataset").asText());
        assertEquals(1920, s.get("train_examples").asInt());
        assertEquals(2000, s.get("test_examples").asInt());
        assertEquals(30, s.get("steps").asInt());
        Images test = EmbeddedMnist.all();
        for (int i = 0; i < 10; i++) {
            assertEquals(test.label(i), s.get("first10_real").get(i).asInt());
        }
        assertTrue(s.get("final_test_accuracy").asDouble() > 0.2, "30 steps should beat chance (0.1) clearly: " + s);
        assertTrue(run.out().startsWith("Epoch: 0 | train loss: "), run.out());
    }
}
