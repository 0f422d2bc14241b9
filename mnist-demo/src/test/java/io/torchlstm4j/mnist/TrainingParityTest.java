package io.torchlstm4j.mnist;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * From PyTorch's initial weights, on the same batches in the same order, DL4J with TorchAdam follows PyTorch's
 * loss curve step for step (golden curves from mnist-demo/tools/make_test_fixtures.py, torch.optim.Adam lr 0.01,
 * 60 steps of batch 40).
 *
 * <p>Tolerances: rounding differences grow during training (about 1.5x per step here), so no implementation can
 * stay within rounding error of PyTorch for 60 steps; the fixture measures that floor by running PyTorch against
 * itself from weights moved by one rounding error ("_perturbed"). DL4J must stay at rounding level for the first
 * 20 steps and within a small multiple of PyTorch's own drift after that. Both engines: the REFERENCE engine with its
 * doubled bias step (one DL4J bias for bias_ih + bias_hh), the FAST engine with PyTorch's two biases as they are.
 */
class TrainingParityTest {

    private static final int EARLY = 20;

    /** DL4J's loss minus PyTorch's loss, per step. */
    private static double[] deviations(Engine engine, DataType dataType, String curve, boolean torchBiasStep,
                                       int steps) throws IOException {
        JsonNode fx = TestData.json("parity/losses.json");
        Map<String, INDArray> init = Safetensors.read(TestData.resource("parity/init.safetensors")).tensors();
        TutorialModel model = TutorialModel.fromStateDict(init, engine, fx.get("lr").asDouble(), dataType,
                "parity/init.safetensors", torchBiasStep);
        Images images = TestData.subset();
        int batch = fx.get("batch_size").asInt();
        int first = fx.get("first_train_image").asInt();
        int cycle = fx.get("batches_per_cycle").asInt();
        JsonNode torch = fx.get(curve);
        assertEquals(fx.get("steps").asInt(), torch.size());
        double[] deviation = new double[steps];
        for (int step = 0; step < steps; step++) {
            int start = first + (step % cycle) * batch;
            int[] idx = Images.indices(start, start + batch);
            double loss = model.fit(images.features(idx, dataType), images.oneHotLabels(idx, dataType));
            deviation[step] = loss - torch.get(step).asDouble();
        }
        return deviation;
    }

    /** How far PyTorch drifts from itself over steps [from, to) after one rounding error in the weights. */
    private static double pytorchSelfDrift(String curve, int from, int to) throws IOException {
        JsonNode fx = TestData.json("parity/losses.json");
        double worst = 0;
        for (int step = from; step < to; step++) {
            worst = Math.max(worst, Math.abs(fx.get(curve).get(step).asDouble()
                    - fx.get(curve + "_perturbed").get(step).asDouble()));
        }
        return worst;
    }

    private static double max(double[] values, int from, int to) {
        double worst = 0;
        for (int i = from; i < to; i++) {
            worst = Math.max(worst, Math.abs(values[i]));
        }
        return worst;
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void float64LossCurveEqualsPytorchForSixtySteps(Engine engine) throws IOException {
        double[] d = deviations(engine, DataType.DOUBLE, "losses_float64", true, 60);
        assertTrue(max(d, 0, EARLY) < 1e-12, "steps 0-19: largest |loss - PyTorch's| " + max(d, 0, EARLY));
        assertTrue(max(d, 0, d.length) < 1e-7, "steps 0-59: largest |loss - PyTorch's| " + max(d, 0, d.length)
                + " (PyTorch against itself: " + pytorchSelfDrift("losses_float64", 0, d.length) + ")");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void float32LossCurveFollowsPytorchAsCloselyAsPytorchFollowsItself(Engine engine) throws IOException {
        double[] d = deviations(engine, DataType.FLOAT, "losses_float32", true, 60);
        double early = pytorchSelfDrift("losses_float32", 0, EARLY);
        assertTrue(max(d, 0, EARLY) < 10 * early, "steps 0-19: largest |loss - PyTorch's| " + max(d, 0, EARLY)
                + ", PyTorch against itself " + early);
        // later, float32 rounding differences have grown into another trajectory (PyTorch's own, after one rounding
        // error, differs by up to 0.3 in a step); what must still agree is the progress: the mean loss of the last
        // 10 steps (about 1.15, from 2.31 at the start), within PyTorch's own per-step drift
        double meanDifference = 0;
        for (int step = d.length - 10; step < d.length; step++) {
            meanDifference += d[step] / 10;
        }
        assertTrue(Math.abs(meanDifference) < 0.3, "steps 50-59: mean loss differs from PyTorch's by "
                + meanDifference + " (largest single step " + max(d, 0, d.length) + ")");
    }

    @Test
    void withoutTheDoubledBiasStepTheReferenceEngineLeavesPytorchsCurveEarly() throws IOException {
        double[] d = deviations(Engine.REFERENCE, DataType.DOUBLE, "losses_float64", false, EARLY);
        assertTrue(max(d, 0, EARLY) > 1e-4, "one DL4J bias for bias_ih + bias_hh needs twice the step: "
                + max(d, 0, EARLY));
    }
}
