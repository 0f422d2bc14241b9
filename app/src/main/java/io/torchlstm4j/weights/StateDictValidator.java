package io.torchlstm4j.weights;

import io.torchlstm4j.LstmConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Checks a PyTorch state_dict against a configuration and reports every problem at once: missing keys,
 * unexpected keys, shape mismatches and unsupported dtypes, each by name.
 */
public final class StateDictValidator {

    private StateDictValidator() {
    }

    /**
     * @param source where the tensors came from, for the message (a file name, or "state_dict")
     * @throws IllegalArgumentException listing every problem found
     */
    public static void validate(LstmConfig config, Map<String, INDArray> stateDict, String source) {
        Map<String, long[]> expected = TorchParameterNames.expectedShapes(config);
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
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Error(s) in loading state_dict from " + source + " for " + config
                    + ":\n\t" + String.join("\n\t", problems));
        }
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
