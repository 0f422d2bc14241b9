package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.io.Safetensors;
import io.torchlstm4j.io.TensorFile;
import io.torchlstm4j.io.TensorFileException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One recorded {@code torch.nn.LSTM} run: the module's configuration and weights, the inputs, and what PyTorch
 * returned (and, optionally, the gradients it computed), as stored in the parity fixture format of
 * {@code docs/parity-fixtures.md} (in the source repository): a safetensors file holding the state_dict under PyTorch's names,
 * {@code input}, optional {@code h0}/{@code c0} and {@code lengths} (I64 [N]), {@code output}, {@code h_n},
 * {@code c_n}, optional {@code grad_output} and {@code grad_<param>} (gradients of
 * {@code (output * grad_output).sum()}), and the configuration in {@code __metadata__}.
 *
 * <p>The constructor checks that everything fits together (one float dtype, every shape against the configuration
 * and the input, the state_dict, lengths in 1..L, gradients for every parameter or none) and reports every problem
 * at once. A fixture whose configuration the library cannot run (projSize &gt; 0, dropout) is still valid.
 *
 * <p>Safe for concurrent use as a value: the record never changes; do not modify the arrays it holds while others
 * read them.
 *
 * @param config            the module's constructor arguments
 * @param dataType          FLOAT or DOUBLE: the dtype of every float tensor
 * @param stateDict         the module's parameters under PyTorch's names, in state_dict order
 * @param input             as passed to the module (its layout follows config.batchFirst, or unbatched)
 * @param initialState      (h0, c0), or null for PyTorch's zeros
 * @param lengths           per-sample lengths (packed-sequence semantics), or null; the accessor returns a copy
 * @param expected          PyTorch's output, h_n and c_n
 * @param outputGradient    the tensor {@code grad_output}, or null when the fixture holds no gradients
 * @param expectedGradients the tensors {@code grad_<param>} keyed by parameter name, empty when none
 * @param metadata          the file's {@code __metadata__} (torch_version, ...); written back with the config
 *                          fields made to agree with {@code config}
 */
public record ParityFixture(LstmConfig config, DataType dataType, Map<String, INDArray> stateDict, INDArray input,
                            LstmState initialState, int[] lengths, LstmOutput expected, INDArray outputGradient,
                            Map<String, INDArray> expectedGradients, Map<String, String> metadata) {

    private static final String GRAD = "grad_";
    private static final Set<String> NAMED_TENSORS =
            Set.of("input", "h0", "c0", "lengths", "output", "h_n", "c_n", "grad_output");

    /** Checks the fixture and copies the maps and lengths. */
    public ParityFixture {
        if (config == null || dataType == null || stateDict == null || input == null || expected == null
                || expected.output() == null || expected.hN() == null || expected.cN() == null
                || (initialState != null && (initialState.h() == null || initialState.c() == null))) {
            throw new IllegalArgumentException("config, dataType, stateDict, input and expected (output, h_n, c_n) "
                    + "are required, and initialState holds both h0 and c0 or is null; got config=" + config
                    + ", dataType=" + dataType + ", stateDict="
                    + (stateDict == null ? null : stateDict.keySet()) + ", input=" + shapeOf(input) + ", expected="
                    + expected + ", initialState=" + initialState);
        }
        expectedGradients = expectedGradients == null ? Map.of() : expectedGradients;
        List<String> problems = new ArrayList<>();
        checkDataTypes(dataType, stateDict, input, initialState, expected, outputGradient, expectedGradients,
                problems);
        checkShapes(config, input, initialState, lengths, expected, outputGradient, problems);
        try {
            StateDictValidator.validate(config, stateDict, "the fixture's state_dict");
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        checkGradients(config, outputGradient, expectedGradients, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the parity fixture of " + config + " is inconsistent:\n\t"
                    + String.join("\n\t", problems));
        }
        stateDict = Collections.unmodifiableMap(new LinkedHashMap<>(stateDict));
        lengths = lengths == null ? null : lengths.clone();
        expectedGradients = Collections.unmodifiableMap(new LinkedHashMap<>(expectedGradients));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata == null ? Map.of() : metadata));
    }

    /** A copy of the per-sample lengths, or null. */
    @Override
    public int[] lengths() {
        return lengths == null ? null : lengths.clone();
    }

    /**
     * Reads and checks a fixture file.
     *
     * @throws TensorFileException naming the file and every tensor or metadata field that is missing, unexpected,
     *                             unparsable or inconsistent
     */
    public static ParityFixture read(Path file) throws IOException {
        TensorFile content = Safetensors.read(file);
        List<String> problems = new ArrayList<>();
        LstmConfig config = null;
        try {
            config = StateDicts.configFromMetadata(content.metadata(), "the fixture");
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        Map<String, INDArray> stateDict = new LinkedHashMap<>();
        Map<String, INDArray> gradients = new LinkedHashMap<>();
        Map<String, INDArray> named = new LinkedHashMap<>();
        List<String> unexpected = new ArrayList<>();
        content.tensors().forEach((name, tensor) -> {
            if (StateDicts.isParameterName(name)) {
                stateDict.put(name, tensor);
            } else if (name.startsWith(GRAD) && StateDicts.isParameterName(name.substring(GRAD.length()))) {
                gradients.put(name.substring(GRAD.length()), tensor);
            } else if (NAMED_TENSORS.contains(name)) {
                named.put(name, tensor);
            } else {
                unexpected.add(name);
            }
        });
        if (!unexpected.isEmpty()) {
            problems.add("unexpected tensor(s) " + unexpected + " (a fixture holds LSTM parameters, grad_<parameter> "
                    + "and " + NAMED_TENSORS + ")");
        }
        List<String> missing = new ArrayList<>();
        for (String name : List.of("input", "output", "h_n", "c_n")) {
            if (!named.containsKey(name)) missing.add(name);
        }
        if (stateDict.isEmpty()) missing.add("the LSTM parameters (weight_ih_l0, ...)");
        if (!missing.isEmpty()) {
            problems.add("missing tensor(s): " + String.join(", ", missing));
        }
        if (named.containsKey("h0") != named.containsKey("c0")) {
            problems.add((named.containsKey("h0") ? "h0 is present but c0 is not" : "c0 is present but h0 is not")
                    + " (both or neither)");
        }
        int[] lengths = named.containsKey("lengths") ? lengths(named.get("lengths"), problems) : null;
        if (!problems.isEmpty()) {
            throw invalid(file, String.join("\n\t", problems));
        }
        INDArray input = named.get("input");
        LstmState state = named.containsKey("h0") ? new LstmState(named.get("h0"), named.get("c0")) : null;
        try {
            return new ParityFixture(config, input.dataType(), stateDict, input, state, lengths,
                    new LstmOutput(named.get("output"), named.get("h_n"), named.get("c_n")), named.get("grad_output"),
                    gradients, content.metadata());
        } catch (IllegalArgumentException e) {
            throw invalid(file, e.getMessage());
        }
    }

    /**
     * Writes the fixture in the order PyTorch's generator does (parameters, input, h0, c0, lengths, output, h_n,
     * c_n, grad_output, grad_*), replacing the file atomically. The metadata is written as given when it records
     * {@link #config}; otherwise its configuration fields are replaced by the config's.
     */
    public void write(Path file) throws IOException {
        Map<String, INDArray> tensors = new LinkedHashMap<>(stateDict);
        tensors.put("input", input);
        if (initialState != null) {
            tensors.put("h0", initialState.h());
            tensors.put("c0", initialState.c());
        }
        if (lengths != null) {
            tensors.put("lengths", Nd4j.createFromArray(Arrays.stream(lengths).asLongStream().toArray()));
        }
        tensors.put("output", expected.output());
        tensors.put("h_n", expected.hN());
        tensors.put("c_n", expected.cN());
        if (outputGradient != null) {
            tensors.put("grad_output", outputGradient);
        }
        expectedGradients.forEach((name, gradient) -> tensors.put(GRAD + name, gradient));
        Safetensors.write(file, tensors, fileMetadata());
    }

    private Map<String, String> fileMetadata() {
        Map<String, String> result = new LinkedHashMap<>(metadata);
        boolean agrees;
        try {
            agrees = StateDicts.configFromMetadata(metadata, "metadata").equals(config);
        } catch (IllegalArgumentException e) {
            agrees = false;
        }
        Map<String, String> canonical = StateDicts.configMetadata(config);
        if (agrees) {
            canonical.forEach(result::putIfAbsent);
        } else {
            result.putAll(canonical);
        }
        return result;
    }

    private static int[] lengths(INDArray lengths, List<String> problems) {
        if (lengths.dataType() != DataType.LONG || lengths.rank() != 1) {
            problems.add("lengths is " + lengths.dataType() + " " + shapeOf(lengths) + " but I64 [N] was expected");
            return null;
        }
        long[] values = lengths.toLongVector();
        int[] result = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 1 || values[i] > Integer.MAX_VALUE) {
                problems.add("lengths[" + i + "] is " + values[i] + " but a positive int was expected");
                return null;
            }
            result[i] = (int) values[i];
        }
        return result;
    }

    private static void checkDataTypes(DataType dataType, Map<String, INDArray> stateDict, INDArray input,
                                       LstmState state, LstmOutput expected, INDArray outputGradient,
                                       Map<String, INDArray> gradients, List<String> problems) {
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            problems.add("dataType is " + dataType + " but FLOAT or DOUBLE was expected");
            return;
        }
        Map<String, INDArray> floats = new LinkedHashMap<>(stateDict);
        floats.put("input", input);
        if (state != null) {
            floats.put("h0", state.h());
            floats.put("c0", state.c());
        }
        floats.put("output", expected.output());
        floats.put("h_n", expected.hN());
        floats.put("c_n", expected.cN());
        floats.put("grad_output", outputGradient);
        gradients.forEach((name, gradient) -> floats.put(GRAD + name, gradient));
        List<String> others = new ArrayList<>();
        floats.forEach((name, tensor) -> {
            if (tensor != null && tensor.dataType() != dataType) others.add(name + " is " + tensor.dataType());
        });
        if (!others.isEmpty()) {
            problems.add("all float tensors must share the fixture's dtype " + dataType + ", but " + others);
        }
    }

    private static void checkShapes(LstmConfig config, INDArray input, LstmState state, int[] lengths,
                                    LstmOutput expected, INDArray outputGradient, List<String> problems) {
        long[] in = input.shape();
        if (in.length != 2 && in.length != 3) {
            problems.add("input has shape " + Arrays.toString(in) + " but (L, N, H_in), (N, L, H_in) with "
                    + "batch_first or unbatched (L, H_in) was expected");
            return;
        }
        boolean unbatched = in.length == 2;
        boolean batchFirst = config.batchFirst() && !unbatched;
        long seqLen = batchFirst ? in[1] : in[0];
        long batch = unbatched ? 1 : batchFirst ? in[0] : in[1];
        long features = in[in.length - 1];
        if (features != config.inputSize()) {
            problems.add("input has " + features + " features (shape " + Arrays.toString(in) + ") but H_in = "
                    + "input_size = " + config.inputSize() + " was expected");
        }
        long outFeatures = (long) config.numDirections() * config.outputSize();
        String outSymbols = unbatched ? "(L, D * H_out)" : batchFirst ? "(N, L, D * H_out)" : "(L, N, D * H_out)";
        long[] out = unbatched ? new long[] {seqLen, outFeatures}
                : batchFirst ? new long[] {batch, seqLen, outFeatures} : new long[] {seqLen, batch, outFeatures};
        String hSymbols = unbatched ? "(numLayers * D, H_out)" : "(numLayers * D, N, H_out)";
        String cSymbols = unbatched ? "(numLayers * D, H_cell)" : "(numLayers * D, N, H_cell)";
        long[] h = stateShape(config, unbatched, batch, config.outputSize());
        long[] c = stateShape(config, unbatched, batch, config.hiddenSize());
        checkShape("output", expected.output(), out, outSymbols, problems);
        checkShape("h_n", expected.hN(), h, hSymbols, problems);
        checkShape("c_n", expected.cN(), c, cSymbols, problems);
        if (state != null) {
            checkShape("h0", state.h(), h, hSymbols, problems);
            checkShape("c0", state.c(), c, cSymbols, problems);
        }
        if (outputGradient != null) {
            checkShape("grad_output", outputGradient, out, outSymbols, problems);
        }
        if (lengths != null) {
            if (unbatched) {
                problems.add("lengths is given for unbatched input (packed sequences need a batch)");
            } else if (lengths.length != batch) {
                problems.add("lengths has " + lengths.length + " values but N = " + batch + " was expected");
            }
            for (int i = 0; i < lengths.length; i++) {
                if (lengths[i] < 1 || lengths[i] > seqLen) {
                    problems.add("lengths[" + i + "] is " + lengths[i] + " but 1..L = 1.." + seqLen + " was expected");
                }
            }
        }
    }

    private static void checkGradients(LstmConfig config, INDArray outputGradient, Map<String, INDArray> gradients,
                                       List<String> problems) {
        if ((outputGradient == null) != gradients.isEmpty()) {
            problems.add(outputGradient == null ? "grad_<parameter> tensors are present but grad_output is not"
                    : "grad_output is present but no grad_<parameter> tensor");
            return;
        }
        Map<String, long[]> shapes = TorchParameterNames.expectedShapes(config);
        if (gradients.isEmpty()) {
            return;
        }
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            INDArray gradient = gradients.get(e.getKey());
            if (gradient == null) {
                problems.add(GRAD + e.getKey() + " is missing (gradients are given for every parameter or none)");
            } else {
                checkShape(GRAD + e.getKey(), gradient, e.getValue(), "the shape of " + e.getKey(), problems);
            }
        }
        for (String name : gradients.keySet()) {
            if (!shapes.containsKey(name)) problems.add(GRAD + name + " is unexpected: " + config + " has no " + name);
        }
    }

    private static long[] stateShape(LstmConfig config, boolean unbatched, long batch, long size) {
        return unbatched ? new long[] {config.stateLayers(), size} : new long[] {config.stateLayers(), batch, size};
    }

    private static void checkShape(String name, INDArray tensor, long[] expected, String symbols,
                                   List<String> problems) {
        if (!Arrays.equals(tensor.shape(), expected)) {
            problems.add(name + " has shape " + Arrays.toString(tensor.shape()) + " but " + symbols + " = "
                    + Arrays.toString(expected) + " was expected");
        }
    }

    private static String shapeOf(INDArray tensor) {
        return tensor == null ? "null" : Arrays.toString(tensor.shape());
    }

    private static TensorFileException invalid(Path file, String problems) {
        return new TensorFileException(file, file + " is not a valid parity fixture:\n\t" + problems);
    }
}
