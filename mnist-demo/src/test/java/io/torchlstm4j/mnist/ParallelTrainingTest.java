package io.torchlstm4j.mnist;

import io.torchlstm4j.core.Engine;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code train --workers 2} (DL4J's ParallelWrapper, parameter averaging) learns what one worker learns on the same
 * data and seed, and the model it saves is the averaged one.
 */
class ParallelTrainingTest {

    @TempDir
    static Path work;
    static Path data;

    @BeforeAll
    static void data() {
        data = SyntheticIdx.writeDataset(work.resolve("data"), 1600, 200, true);
    }

    static JsonNode train(String engine, int workers, int epochs) throws IOException {
        Path out = work.resolve(engine + "-" + workers);
        Cli train = Cli.run("--data", data.toString(), "--batch-size", "16", "--epochs", String.valueOf(epochs),
                "--eval-every", "50",
                "--test-limit", "200", "--hidden-size", "32", "--engine", engine, "--workers", String.valueOf(workers),
                "--threads", "1", "--seed", "3", "--out", out.toString(), "--no-progress");
        assertEquals(0, train.exitCode(), train.err());
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        System.out.printf("%s engine, %d worker(s): accuracy %.3f, %.2f ms per minibatch, %d minibatches%n", engine,
                workers, summary.get("final_test_accuracy").asDouble(), summary.get("train_ms_per_step").asDouble(),
                summary.get("steps").asInt());
        return summary;
    }

    @Test
    void twoWorkersReachOneWorkersAccuracyWithin005OnTheFastEngine() throws IOException {
        // 4 epochs: two averaging workers make half as many updates, and the order in which ParallelWrapper's
        // threads take minibatches varies from run to run; after 2 epochs two workers were seen at 0.895 against 1.0
        JsonNode one = train("fast", 1, 4);
        JsonNode two = train("fast", 2, 4);
        assertEquals(400, one.get("steps").asInt());
        assertEquals(400, two.get("steps").asInt(), "every minibatch trained once per epoch");
        assertEquals(2, two.get("workers").asInt());
        double a1 = one.get("final_test_accuracy").asDouble();
        double a2 = two.get("final_test_accuracy").asDouble();
        assertTrue(a1 >= 0.5, "one worker learns: " + a1);
        assertTrue(Math.abs(a1 - a2) <= 0.05, "one worker " + a1 + ", two workers " + a2);
        assertSavedModelIsTheAveragedOne("fast", a2);
    }

    /** The REFERENCE engine (DL4J's stock LSTM, about 7x slower per step): two workers learn, in one epoch. */
    @Test
    void twoWorkersTrainTheReferenceEngine() throws IOException {
        JsonNode two = train("reference", 2, 1);
        assertEquals(100, two.get("steps").asInt());
        double accuracy = two.get("final_test_accuracy").asDouble();
        assertTrue(accuracy >= 0.5, "two workers learn: " + accuracy);
        assertSavedModelIsTheAveragedOne("reference", accuracy);
    }

    /** Evaluating the saved model gives the accuracy the training reported for the averaged parameters. */
    static void assertSavedModelIsTheAveragedOne(String engine, double accuracy) throws IOException {
        Path json = work.resolve(engine + "-eval.json");
        Cli eval = Cli.run("evaluate", "--model", work.resolve(engine + "-2").resolve("model.zip").toString(),
                "--data", data.toString(), "--test-limit", "200", "--summary-json", json.toString());
        assertEquals(0, eval.exitCode(), eval.err());
        assertEquals(accuracy, new ObjectMapper().readTree(json.toFile()).get("final_test_accuracy").asDouble(), 1e-12);
    }

    /** What ParallelWrapper does to give each worker its model: a clone with the same, unshared parameters. */
    @Test
    void aCloneOfTheFastModelHasEqualConfigurationAndItsOwnParameters() {
        TutorialModel model = TutorialModel.create(TutorialModel.lstmConfig(28, 16, 2), Engine.FAST, 0.01,
                DataType.FLOAT, 5);
        ComputationGraph clone = model.network().clone();
        assertEquals(model.network().getConfiguration().toJson(), clone.getConfiguration().toJson());
        assertEquals(model.network().params(), clone.params());
        clone.params().addi(1);
        assertNotEquals(model.network().params(), clone.params());
        INDArray features = Nd4j.rand(DataType.FLOAT, 3, 28, 28);
        clone.setParams(model.network().params());
        assertEquals(model.probabilities(features), clone.outputSingle(false, features));
    }
}
