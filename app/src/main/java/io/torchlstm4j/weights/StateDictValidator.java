package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Checks a PyTorch state_dict against a configuration (or any model's names and shapes) and reports every problem
 * at once: missing keys, unexpected keys, shape mismatches and unsupported dtypes, each by name. Stateless: safe for
 * concurrent use.
 */
public final class StateDictValidator {

    private StateDictValidator() {
    }

    /**
     * @param source where the tensors came from, for the message (a file name, or "state_dict")
     * @throws IllegalArgumentException listing every problem found
     */
    public static void validate(LstmConfig config, Map<String, INDArray> stateDict, String source) {
        validate(TorchParameterNames.expectedShapes(config), stateDict, source, config.toString());
    }

    /**
     * Checks tensors against the names and shapes of any model (e.g. {@link ModelWeights}'s modules under their
     * prefixes).
     *
     * @param expected every parameter name with its PyTorch shape
     * @param model    the model, for the message (e.g. {@code LSTM(10, 20)})
     * @throws IllegalArgumentException listing every problem found
     */
    public static void validate(Map<String, long[]> expected, Map<String, INDArray> stateDict, String source,
                                String model) {
        List<String> problems = problems(expected, stateDict);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(message(problems, source, model));
        }
    }

    /**
     * Every problem of the tensors against the expected names and shapes, in PyTorch's words: missing keys, then
     * unexpected keys, then each shape mismatch and unsupported dtype; empty when they fit.
     */
    public static List<String> problems(Map<String, long[]> expected, Map<String, INDArray> stateDict) {
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            INDArray t = stateDict.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
                continue;
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                problems.add("size mismatch for " + e.getKey() + ": copying a param with shape "
                        + Arrays.toString(t.shape()) + ", the shape in the current model is "
                        + Arrays.toString(e.getValue()));
            }
            if (t.dataType() != DataType.FLOAT && t.dataType() != DataType.DOUBLE) {
                problems.add("unsupported dtype for " + e.getKey() + ": " + t.dataType()
                        + " (FLOAT or DOUBLE expected)");
            }
        }
        for (String key : stateDict.keySet()) {
            if (!expected.containsKey(key)) {
                unexpected.add(key);
            }
        }
        if (!missing.isEmpty()) {
            problems.add(0, "Missing key(s) in state_dict: " + quote(missing));
        }
        if (!unexpected.isEmpty()) {
            problems.add(missing.isEmpty() ? 0 : 1, "Unexpected key(s) in state_dict: " + quote(unexpected));
        }
        return problems;
    }

    /** PyTorch's load_state_dict message: the source and model, then one problem per line. */
    public static String message(List<String> problems, String source, String model) {
        return "Error(s) in loading state_dict from " + source + " for " + model + ":\n\t"
                + String.join("\n\t", problems);
    }

    private static String quote(List<String> keys) {
        StringBuilder s = new StringBuilder();
        for (String k : keys) {
            if (s.length() > 0) s.append(", ");
            s.append('"').append(k).append('"');
        }
        return s.append('.').toString();
    }
}
