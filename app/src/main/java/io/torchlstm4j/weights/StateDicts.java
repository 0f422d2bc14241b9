package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.io.Npz;
import io.torchlstm4j.io.Safetensors;
import io.torchlstm4j.io.TorchCheckpoint;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PyTorch state_dict files for {@code torch.nn.LSTM}: load (PyTorch's own {@code .pt}/{@code .pth}, safetensors or
 * NumPy {@code .npz}), infer the configuration, check against a configuration, save (safetensors), all under
 * PyTorch's parameter names.
 *
 * <p>From PyTorch:
 * <pre>
 * torch.save(lstm.state_dict(), "lstm.pt")     # nn.LSTM itself: no prefix
 * torch.save(model.state_dict(), "model.pt")   # model.rnn: prefix "rnn."
 * torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt.pth")
 * np.savez("model.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
 * </pre>
 * then {@code TorchLstm.load(Path.of("model.pt"), "rnn.", null, Engine.REFERENCE)}. In a training checkpoint
 * the state_dict holding the LSTM's parameters is found by itself; a checkpoint key names it where several do
 * ({@link #load(Path, String, String)}). {@code .pt}/{@code .pth} files are read without running their pickles
 * ({@link TorchCheckpoint}, as {@code torch.load(..., weights_only=True)}). Going back, a file from
 * {@link #save} loads in PyTorch with {@code safetensors.torch.load_file} (or any safetensors reader) and
 * {@code lstm.load_state_dict(...)}.
 *
 * <p>A file whose content is corrupt or unsupported is a {@link io.torchlstm4j.io.TensorFileException}; tensors
 * that do not fit a configuration are an {@link IllegalArgumentException} listing every missing key, unexpected
 * key, shape mismatch and unsupported dtype at once ({@link StateDictValidator}).
 *
 * <p>Safe for concurrent use: static methods that keep no state between calls.
 */
public final class StateDicts {

    /** PyTorch's LSTM parameter names: kind, layer, direction. */
    private static final Pattern PARAMETER =
            Pattern.compile("(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(\\d{1,9})(_reverse)?");
    private static final Pattern PREFIXED_PARAMETER = Pattern.compile("(.*?)(" + PARAMETER.pattern() + ")");
    private static final Map<String, Function<LstmConfig, String>> CONFIG_FIELDS = configFields();

    private StateDicts() {
    }

    /** Whether {@code key} is an {@code nn.LSTM} parameter name such as {@code weight_ih_l0}. */
    public static boolean isParameterName(String key) {
        return PARAMETER.matcher(key).matches();
    }

    /**
     * Reads the tensors of a {@code .pt}, {@code .pth}, {@code .safetensors} or {@code .npz} file and keeps those
     * whose key starts with {@code prefix}, with the prefix removed, in the file's order.
     *
     * @param prefix e.g. {@code "rnn."} for the LSTM {@code self.rnn} of a model saved with
     *               {@code model.state_dict()}; null or empty keeps every key as it is
     * @throws IllegalArgumentException when the file type is none of these, or no LSTM parameter is left (the
     *                                  message lists the prefixes under which the file does hold LSTM parameters)
     */
    public static Map<String, INDArray> load(Path file, String prefix) throws IOException {
        return load(file, prefix, null);
    }

    /**
     * {@link #load(Path, String)} from the state_dict under {@code checkpointKey} of a training checkpoint
     * ({@code .pt}/{@code .pth} only; dotted for nested ones, e.g. "model" or "ema.module"). With the key null, the
     * state_dict is the only one in the file, or the only one holding LSTM parameters under {@code prefix}.
     */
    public static Map<String, INDArray> load(Path file, String prefix, String checkpointKey) throws IOException {
        String p = prefix == null ? "" : prefix;
        Map<String, INDArray> all = readAll(file, checkpointKey,
                key -> key.startsWith(p) && isParameterName(key.substring(p.length())));
        Map<String, INDArray> kept = under(p, all);
        if (kept.keySet().stream().noneMatch(StateDicts::isParameterName)) {
            throw new IllegalArgumentException(noParameters(file, p, all.keySet()));
        }
        return kept;
    }

    /**
     * The tensors whose key starts with {@code prefix}, with the prefix removed, in order: one module's state_dict
     * out of a whole model's (e.g. {@code under("rnn.", model)}).
     */
    public static Map<String, INDArray> under(String prefix, Map<String, INDArray> stateDict) {
        Map<String, INDArray> kept = new LinkedHashMap<>();
        stateDict.forEach((key, tensor) -> {
            if (key.startsWith(prefix)) kept.put(key.substring(prefix.length()), tensor);
        });
        return kept;
    }

    /**
     * An {@code nn.LSTM}'s state_dict from a file and the configuration it fits: {@link #load}, then with
     * {@code expected} null the configuration inferred from the tensors ({@link #inferConfig}, batchFirst false,
     * dropout 0); otherwise the tensors checked against {@code expected}, every problem reported at once.
     * ({@code TorchLstm.load} builds an LSTM from it.)
     *
     * @param checkpointKey the key of the state_dict in a training checkpoint, or null to find it
     */
    public static LstmStateDict loadLstm(Path file, String prefix, String checkpointKey, LstmConfig expected)
            throws IOException {
        Map<String, INDArray> stateDict = load(file, prefix, checkpointKey);
        String source = describe(file, prefix);
        LstmConfig config = expected;
        if (config == null) {
            config = inferConfig(stateDict, false, source);
        } else {
            StateDictValidator.validate(config, stateDict, source);
        }
        return new LstmStateDict(config, stateDict);
    }

    /**
     * An {@code nn.LSTM}'s parameters as read from a file, checked against {@code config}.
     *
     * @param config    the configuration the tensors fit
     * @param stateDict the tensors under PyTorch's names, in the file's order
     */
    public record LstmStateDict(LstmConfig config, Map<String, INDArray> stateDict) {
    }

    /**
     * The {@code nn.LSTM} configuration that the tensors were saved from: inputSize from {@code weight_ih_l0}
     * (4 * hiddenSize, inputSize), numLayers from the highest layer index, bias from the presence of
     * {@code bias_*}, bidirectional from {@code *_reverse}, projSize from {@code weight_hr_l0} (projSize,
     * hiddenSize). dropout cannot be seen in weights and is 0. The tensors are then checked against the result,
     * so every inconsistency (a missing layer, a bias on one layer only, a wrong shape, an unexpected key or dtype)
     * is reported by name, all at once.
     *
     * @param batchFirst the layout of the caller's input, which weights do not record
     * @throws IllegalArgumentException naming what is inconsistent
     */
    public static LstmConfig inferConfig(Map<String, INDArray> stateDict, boolean batchFirst) {
        return inferConfig(stateDict, batchFirst, "state_dict");
    }

    /**
     * Writes the tensors under PyTorch's names, each key preceded by {@code prefix} (null or empty for none), with
     * the metadata (null for none), as a safetensors file, atomically.
     */
    public static void save(Path file, Map<String, INDArray> stateDict, Map<String, String> metadata, String prefix)
            throws IOException {
        String p = prefix == null ? "" : prefix;
        Map<String, INDArray> prefixed = new LinkedHashMap<>();
        stateDict.forEach((key, tensor) -> prefixed.put(p + key, tensor));
        Safetensors.write(file, prefixed, metadata);
    }

    /**
     * Writes the LSTM's parameters under PyTorch's names (each preceded by {@code prefix}, null or empty for none)
     * with its configuration as metadata ({@link #configMetadata}), as a safetensors file, atomically. In PyTorch:
     * {@code lstm.load_state_dict(tensors)} for the matching {@code nn.LSTM} reproduces the outputs.
     */
    public static void save(Path file, LstmModule lstm, String prefix) throws IOException {
        save(file, lstm.stateDict(), configMetadata(lstm.config()), prefix);
    }

    /**
     * The configuration as strings under PyTorch's argument names ({@code input_size}, {@code hidden_size},
     * {@code num_layers}, {@code bias}, {@code batch_first}, {@code bidirectional}, {@code proj_size},
     * {@code dropout}), booleans as "true"/"false": the metadata of the parity fixture format.
     */
    public static Map<String, String> configMetadata(LstmConfig config) {
        Map<String, String> metadata = new LinkedHashMap<>();
        CONFIG_FIELDS.forEach((name, value) -> metadata.put(name, value.apply(config)));
        return metadata;
    }

    /**
     * The configuration recorded in metadata as {@link #configMetadata} writes it. Booleans may also be Python's
     * "True"/"False"; {@code proj_size} and {@code dropout} default to 0 when absent.
     *
     * @param source names the metadata's origin in messages
     * @throws IllegalArgumentException naming every field that is missing or does not parse
     */
    public static LstmConfig configFromMetadata(Map<String, String> metadata, String source) {
        List<String> problems = new ArrayList<>();
        int inputSize = integer(metadata, "input_size", null, problems);
        int hiddenSize = integer(metadata, "hidden_size", null, problems);
        int numLayers = integer(metadata, "num_layers", null, problems);
        boolean bias = bool(metadata, "bias", problems);
        boolean batchFirst = bool(metadata, "batch_first", problems);
        boolean bidirectional = bool(metadata, "bidirectional", problems);
        int projSize = integer(metadata, "proj_size", "0", problems);
        double dropout = 0;
        try {
            dropout = Double.parseDouble(metadata.getOrDefault("dropout", "0"));
        } catch (NumberFormatException e) {
            problems.add("dropout is \"" + metadata.get("dropout") + "\" but a number was expected");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the LSTM configuration in the metadata of " + source
                    + " is incomplete: " + String.join("; ", problems));
        }
        try {
            return new LstmConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the LSTM configuration in the metadata of " + source
                    + " is invalid: " + e.getMessage(), e);
        }
    }

    static LstmConfig inferConfig(Map<String, INDArray> stateDict, boolean batchFirst, String source) {
        INDArray weightIh = stateDict.get("weight_ih_l0");
        if (weightIh == null) {
            throw new IllegalArgumentException("cannot infer the LSTM configuration of " + source + ": it has no "
                    + "weight_ih_l0 (keys: " + stateDict.keySet() + ")");
        }
        long[] shape = weightIh.shape();
        if (shape.length != 2 || shape[0] == 0 || shape[0] % 4 != 0 || shape[1] == 0
                || shape[0] / 4 > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot infer the LSTM configuration of " + source + ": weight_ih_l0 "
                    + "has shape " + Arrays.toString(shape) + " but (4 * hidden_size, input_size) was expected");
        }
        Keys keys = keys(stateDict);
        int layers = keys.numLayers();
        boolean bias = keys.bias();
        boolean bidirectional = keys.bidirectional();
        INDArray weightHr = stateDict.get("weight_hr_l0");
        long projSize = weightHr == null ? 0 : weightHr.rank() == 2 ? weightHr.size(0) : -1;
        if (projSize < 0 || projSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("cannot infer the LSTM configuration of " + source + ": weight_hr_l0 "
                    + "has shape " + Arrays.toString(weightHr.shape()) + " but (proj_size, hidden_size) was expected");
        }
        LstmConfig config;
        try {
            config = new LstmConfig((int) shape[1], (int) (shape[0] / 4), layers, bias, batchFirst, 0, bidirectional,
                    (int) projSize);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot infer the LSTM configuration of " + source + " (weight_ih_l0 "
                    + Arrays.toString(shape) + (weightHr == null ? "" : ", weight_hr_l0 "
                    + Arrays.toString(weightHr.shape())) + "): " + e.getMessage(), e);
        }
        StateDictValidator.validate(config, stateDict, source + " (configuration inferred from its tensors)");
        return config;
    }

    /** What the names of an {@code nn.LSTM} state_dict say: layer count, bias, bidirectional. */
    record Keys(int numLayers, boolean bias, boolean bidirectional) {
    }

    /** Reads layer count, bias and direction from the LSTM parameter names of a state_dict. */
    static Keys keys(Map<String, INDArray> stateDict) {
        int layers = 0;
        boolean bias = false;
        boolean bidirectional = false;
        for (String key : stateDict.keySet()) {
            Matcher m = PARAMETER.matcher(key);
            // a layer index beyond the number of tensors cannot be real: leave that key to be reported as unexpected
            if (m.matches() && Integer.parseInt(m.group(2)) < stateDict.size()) {
                layers = Math.max(layers, Integer.parseInt(m.group(2)) + 1);
                bias |= m.group(1).startsWith("bias");
                bidirectional |= m.group(3) != null;
            }
        }
        return new Keys(layers, bias, bidirectional);
    }

    /**
     * Every tensor of a .pt, .pth, .safetensors or .npz file under its own key, prefixes kept (e.g. a whole model's
     * {@code rnn.*} and {@code out.*}), in file order.
     *
     * @throws IllegalArgumentException when the file is none of these
     */
    public static Map<String, INDArray> readAll(Path file) throws IOException {
        return readAll(file, null);
    }

    /**
     * {@link #readAll(Path)} from the state_dict under {@code checkpointKey} of a training checkpoint (.pt/.pth
     * only; null to find it: the only state_dict in the file, or the only one holding LSTM parameters).
     *
     * @throws IllegalArgumentException when the file type is unknown, or a key is given for a file that is not a
     *                                  .pt/.pth checkpoint
     */
    public static Map<String, INDArray> readAll(Path file, String checkpointKey) throws IOException {
        return readAll(file, checkpointKey, key -> PREFIXED_PARAMETER.matcher(key).matches());
    }

    private static Map<String, INDArray> readAll(Path file, String checkpointKey, Predicate<String> expectedName)
            throws IOException {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".pt") || name.endsWith(".pth")) {
            return TorchCheckpoint.read(file, checkpointKey, expectedName);
        }
        if (checkpointKey != null) {
            throw new IllegalArgumentException("cannot load a state_dict from " + file + " under the checkpoint key '"
                    + checkpointKey + "': keys name entries of PyTorch .pt/.pth checkpoints only");
        }
        if (name.endsWith(".safetensors")) {
            return Safetensors.read(file).tensors();
        }
        if (name.endsWith(".npz")) {
            return Npz.read(file);
        }
        throw new IllegalArgumentException("cannot load a state_dict from " + file + ": a .pt, .pth, .safetensors or "
                + ".npz file was expected");
    }

    private static String noParameters(Path file, String prefix, Set<String> keys) {
        Set<String> prefixes = new LinkedHashSet<>();
        for (String key : keys) {
            Matcher m = PREFIXED_PARAMETER.matcher(key);
            if (m.matches()) prefixes.add(m.group(1));
        }
        String what = prefix.isEmpty() ? file + " holds no LSTM parameter (such as weight_ih_l0) at the top level"
                : "no LSTM parameter (such as weight_ih_l0) in " + file + " has the prefix '" + prefix + "'";
        if (prefixes.isEmpty()) {
            return what + "; its keys are " + keys;
        }
        if (prefixes.size() == 1) {
            return what + "; all its LSTM parameters have the prefix '" + prefixes.iterator().next()
                    + "': pass that prefix";
        }
        return what + "; its LSTM parameters have the prefixes '" + String.join("', '", prefixes) + "': pass one";
    }

    private static String describe(Path file, String prefix) {
        return prefix == null || prefix.isEmpty() ? file.toString() : file + " (keys under '" + prefix + "')";
    }

    private static int integer(Map<String, String> metadata, String key, String absent, List<String> problems) {
        String value = metadata.getOrDefault(key, absent);
        if (value == null) {
            problems.add(key + " is missing");
            return 0;
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            problems.add(key + " is \"" + value + "\" but an integer was expected");
            return 0;
        }
    }

    private static boolean bool(Map<String, String> metadata, String key, List<String> problems) {
        String value = metadata.get(key);
        if ("true".equals(value) || "True".equals(value)) return true;
        if ("false".equals(value) || "False".equals(value)) return false;
        problems.add(key + (value == null ? " is missing" : " is \"" + value + "\" but \"true\" or \"false\" was "
                + "expected"));
        return false;
    }

    private static Map<String, Function<LstmConfig, String>> configFields() {
        Map<String, Function<LstmConfig, String>> fields = new LinkedHashMap<>();
        fields.put("input_size", c -> String.valueOf(c.inputSize()));
        fields.put("hidden_size", c -> String.valueOf(c.hiddenSize()));
        fields.put("num_layers", c -> String.valueOf(c.numLayers()));
        fields.put("bias", c -> String.valueOf(c.bias()));
        fields.put("batch_first", c -> String.valueOf(c.batchFirst()));
        fields.put("bidirectional", c -> String.valueOf(c.bidirectional()));
        fields.put("proj_size", c -> String.valueOf(c.projSize()));
        fields.put("dropout", c -> String.valueOf(c.dropout()));
        return fields;
    }
}
