package io.torchlstm4j.verify;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.engine.Engines;
import io.torchlstm4j.weights.ParityFixture;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Compares the adapter with a recorded PyTorch run (a {@link ParityFixture}): rebuilds the LSTM from the fixture's
 * state_dict, runs its input (with its (h0, c0) and lengths when present) in evaluation mode and compares output,
 * h_n and c_n; when the fixture records gradients, also computes the gradients of
 * {@code (output * grad_output).sum()} and compares every parameter's.
 */
public final class FixtureComparison {

    /**
     * One compared tensor.
     *
     * @param tensor           {@code output}, {@code h_n}, {@code c_n} or {@code grad_<parameter>}
     * @param shape            the expected (PyTorch's) shape
     * @param maxAbsDifference max |adapter - PyTorch|; infinite when the shapes differ, NaN when a NaN appears
     * @param worstIndex       where the largest difference is
     * @param atol             the tolerance it was held to
     * @param passed           true when the difference is within the tolerance
     */
    public record TensorResult(String tensor, List<Long> shape, double maxAbsDifference, List<Long> worstIndex,
                               double atol, boolean passed) {

        /** Copies the lists. */
        public TensorResult {
            shape = List.copyOf(shape);
            worstIndex = List.copyOf(worstIndex);
        }
    }

    /**
     * The comparison of one fixture.
     *
     * @param config      the fixture's configuration
     * @param dataType    FLOAT or DOUBLE
     * @param engine      the engine that ran
     * @param tensors     one entry per compared tensor
     * @param unsupported null, or the feature of the fixture the adapter does not support (then the tensors that
     *                    need it are not compared)
     */
    public record Result(LstmConfig config, DataType dataType, Engine engine, List<TensorResult> tensors,
                         String unsupported) {

        /** Copies the list. */
        public Result {
            tensors = List.copyOf(tensors);
        }

        /** True when some compared tensor differs beyond its tolerance. */
        public boolean mismatch() {
            return tensors.stream().anyMatch(t -> !t.passed());
        }

        /** True when every tensor was compared and matched. */
        public boolean passed() {
            return unsupported == null && !mismatch();
        }
    }

    private FixtureComparison() {
    }

    /**
     * Runs the fixture on the adapter and compares.
     *
     * @param engine       the engine, or null for the adapter's default for the fixture's configuration
     * @param atol         tolerance of output, h_n and c_n; NaN for {@link Tolerances#forward}
     * @param gradientAtol tolerance of the gradients; NaN for {@link Tolerances#gradient}
     * @param gradients    false compares output, h_n and c_n only, even when the fixture records gradients
     */
    public static Result compare(ParityFixture fixture, Engine engine, double atol, double gradientAtol,
                                 boolean gradients) {
        LstmConfig config = fixture.config();
        Engine chosen = engine != null ? engine : Engines.defaultFor(config);
        double forwardTolerance = Double.isNaN(atol) ? Tolerances.forward(fixture.dataType()) : atol;
        double gradientTolerance = Double.isNaN(gradientAtol) ? Tolerances.gradient(fixture.dataType()) : gradientAtol;
        List<TensorResult> tensors = new ArrayList<>();
        if (config.dropout() > 0) {
            return new Result(config, fixture.dataType(), chosen, tensors, "dropout=" + config.dropout()
                    + ": PyTorch's random dropout masks cannot be reproduced, and the fixture does not record "
                    + "whether it ran in training mode");
        }
        TorchLstm lstm;
        LstmOutput actual;
        try {
            lstm = TorchLstm.fromStateDict(config, chosen, fixture.stateDict()).eval();
            actual = lstm.forward(fixture.input(), fixture.initialState(), fixture.lengths());
        } catch (UnsupportedOperationException e) {
            return new Result(config, fixture.dataType(), chosen, tensors, e.getMessage());
        }
        LstmOutput expected = fixture.expected();
        tensors.add(tensor("output", actual.output(), expected.output(), forwardTolerance));
        tensors.add(tensor("h_n", actual.hN(), expected.hN(), forwardTolerance));
        tensors.add(tensor("c_n", actual.cN(), expected.cN(), forwardTolerance));
        if (!gradients || fixture.outputGradient() == null) {
            return new Result(config, fixture.dataType(), chosen, tensors, null);
        }
        Map<String, INDArray> actualGradients;
        try {
            actualGradients = lstm.train().gradients(fixture.input(), fixture.initialState(), fixture.lengths(),
                    fixture.outputGradient());
        } catch (UnsupportedOperationException e) {
            return new Result(config, fixture.dataType(), chosen, tensors, "gradients: " + e.getMessage());
        }
        for (Map.Entry<String, INDArray> e : fixture.expectedGradients().entrySet()) {
            tensors.add(tensor("grad_" + e.getKey(), actualGradients.get(e.getKey()), e.getValue(),
                    gradientTolerance));
        }
        return new Result(config, fixture.dataType(), chosen, tensors, null);
    }

    private static TensorResult tensor(String name, INDArray actual, INDArray expected, double atol) {
        List<Long> shape = Arrays.stream(expected.shape()).boxed().toList();
        if (actual == null) {
            return new TensorResult(name, shape, Double.POSITIVE_INFINITY, List.of(), atol, false);
        }
        Difference d = Difference.between(actual, expected);
        return new TensorResult(name, shape, d.maxAbs(), d.worstIndex(), atol, d.within(atol));
    }
}
