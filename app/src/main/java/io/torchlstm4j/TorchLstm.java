package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.engine.Engines;
import io.torchlstm4j.engine.LstmEngine;
import io.torchlstm4j.weights.LstmModule;
import io.torchlstm4j.weights.StateDictValidator;
import io.torchlstm4j.weights.StateDicts;
import io.torchlstm4j.weights.TorchParameterNames;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code torch.nn.LSTM} on Deeplearning4j: PyTorch's constructor arguments, layouts, states, parameter names
 * and numbers.
 *
 * <p>For each element of the input sequence each layer computes
 * <pre>
 * i_t = sigmoid(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)
 * f_t = sigmoid(W_if x_t + b_if + W_hf h_(t-1) + b_hf)
 * g_t = tanh   (W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)
 * o_t = sigmoid(W_io x_t + b_io + W_ho h_(t-1) + b_ho)
 * c_t = f_t * c_(t-1) + i_t * g_t
 * h_t = o_t * tanh(c_t)                      (h_t = W_hr (o_t * tanh(c_t)) with projSize &gt; 0)
 * </pre>
 * where the input of layer k &gt; 0 is the output of layer k-1 (times a dropout mask in training).
 *
 * <p>Shapes, with N = batch size, L = sequence length, D = 2 if bidirectional else 1,
 * H_in = inputSize, H_cell = hiddenSize, H_out = projSize if projSize &gt; 0 else hiddenSize:
 * <table>
 * <caption>Shapes of the tensors of {@link #forward(INDArray, LstmState)}</caption>
 * <tr><th>tensor</th><th>unbatched</th><th>batchFirst=false (default)</th><th>batchFirst=true</th></tr>
 * <tr><td>input</td><td>(L, H_in)</td><td>(L, N, H_in)</td><td>(N, L, H_in)</td></tr>
 * <tr><td>h_0, h_n</td><td>(D * numLayers, H_out)</td><td>(D * numLayers, N, H_out)</td><td>(D * numLayers, N, H_out)</td></tr>
 * <tr><td>c_0, c_n</td><td>(D * numLayers, H_cell)</td><td>(D * numLayers, N, H_cell)</td><td>(D * numLayers, N, H_cell)</td></tr>
 * <tr><td>output</td><td>(L, D * H_out)</td><td>(L, N, D * H_out)</td><td>(N, L, D * H_out)</td></tr>
 * </table>
 * {@code batchFirst} never applies to h and c. Entry {@code layer * D + direction} of h_n and c_n belongs to
 * that layer and direction; the forward direction's final state is at the last step (each sample's own last
 * valid step when lengths are given), the backward direction's at step 0. {@code output} holds the top layer's
 * h_t for every t, forward features first.
 *
 * <p>Missing (h_0, c_0) mean zeros. Every shape, dtype and length is checked before any ND4J call; a mismatch
 * is an {@link IllegalArgumentException} that names the tensor, the expected and the actual shape.
 *
 * <p>Safe for concurrent use, as PyTorch inference on a shared module is: {@code forward} and {@code gradients} may be
 * called from many threads at once on one instance, and each result is bit-identical to the same call made alone
 * (each call works in memory of its own; the FAST engine keeps one set of buffers per call that ran at the same
 * time, for reuse). {@link #loadStateDict} waits for the calls in flight, and calls made meanwhile wait for it, so a
 * call sees either all of the old or all of the new parameters. {@link #train()} and {@link #eval()} take effect for
 * calls that start after them. The DL4J network of {@link #network()} is used by one thread at a time, like any DL4J
 * network: do not {@code fit} it while calls on this instance run (an overlap with its forward or backward pass
 * throws {@link IllegalStateException}; one with its parameter update cannot be detected).
 */
public final class TorchLstm implements LstmModule {

    private final LstmConfig config;
    private final Engine engineKind;
    private final LstmEngine engine;
    private volatile boolean training;

    private TorchLstm(LstmConfig config, Engine engineKind, LstmEngine engine) {
        this.config = config;
        this.engineKind = engineKind;
        this.engine = engine;
        this.training = true;
    }

    /** A float32 LSTM on the default engine, initialised like PyTorch (U(-1/sqrt(H), 1/sqrt(H))) from a random seed. */
    public static TorchLstm create(LstmConfig config) {
        return create(config, Engines.defaultFor(config), DataType.FLOAT, System.nanoTime());
    }

    /**
     * An LSTM initialised like PyTorch: every weight and bias drawn from U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)).
     *
     * @param dataType FLOAT or DOUBLE
     * @param seed     seed of the initialisation
     * @throws IllegalArgumentException before anything is built, when the parameters exceed what ND4J may allocate
     *                                  (JavaCPP's maxBytes, default -Xmx) or a weight exceeds one Java array; the
     *                                  message gives the parameter and byte counts
     */
    public static TorchLstm create(LstmConfig config, Engine engine, DataType dataType, long seed) {
        if (config == null || engine == null || dataType == null) {
            throw new IllegalArgumentException("config, engine and dataType are required (got config=" + config
                    + ", engine=" + engine + ", dataType=" + dataType + ")");
        }
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("dataType must be FLOAT or DOUBLE, got " + dataType);
        }
        checkAllocatable(config, dataType);
        return new TorchLstm(config, engine, Engines.provider(engine).create(config, dataType, seed));
    }

    /** Refuses, before anything is built, parameters that could not be allocated. */
    private static void checkAllocatable(LstmConfig config, DataType dataType) {
        MemoryBounds.checkOffHeap(() -> config + "'s parameters", config.parameterCount(), dataType);
        long gates = 4L * config.hiddenSize();
        MemoryBounds.checkArray("weight_ih_l0", gates, config.inputSize());
        MemoryBounds.checkArray("weight_hh_l0", gates, config.outputSize());
        if (config.numLayers() > 1) {
            MemoryBounds.checkArray("weight_ih_l1", gates, config.layerInputSize(1));
        }
    }

    /**
     * An LSTM holding the given PyTorch parameters (names and shapes as in {@code nn.LSTM.state_dict()}).
     * The data type is the tensors' (all FLOAT or all DOUBLE).
     */
    public static TorchLstm fromStateDict(LstmConfig config, Engine engine, Map<String, INDArray> stateDict) {
        StateDictValidator.validate(config, stateDict, "state_dict");
        DataType dataType = stateDict.values().iterator().next().dataType();
        TorchLstm lstm = create(config, engine, dataType, 0L);
        lstm.loadStateDict(stateDict);
        return lstm;
    }

    /**
     * An LSTM holding the {@code nn.LSTM} parameters of a state_dict file ({@code .pt}/{@code .pth}, safetensors or
     * {@code .npz}; {@link StateDicts#load}), the keys under {@code prefix} (e.g. {@code "rnn."}; null or empty for
     * none). With {@code expected} null the configuration is inferred from the tensors
     * ({@link StateDicts#inferConfig}, batchFirst false, dropout 0); otherwise the tensors are checked against
     * {@code expected}, every problem reported at once.
     *
     * @throws IOException when the file cannot be read
     */
    public static TorchLstm load(Path file, String prefix, LstmConfig expected, Engine engine) throws IOException {
        return load(file, prefix, null, expected, engine);
    }

    /** {@link #load(Path, String, LstmConfig, Engine)} from the state_dict under a checkpoint key. */
    public static TorchLstm load(Path file, String prefix, String checkpointKey, LstmConfig expected, Engine engine)
            throws IOException {
        StateDicts.LstmStateDict loaded = StateDicts.loadLstm(file, prefix, checkpointKey, expected);
        return fromStateDict(loaded.config(), engine, loaded.stateDict());
    }

    /** PyTorch's {@code forward(input)}: zero initial states. */
    public LstmOutput forward(INDArray input) {
        return forward(input, null, (int[]) null);
    }

    /** PyTorch's {@code forward(input, (h0, c0))}; a null state means zeros. */
    public LstmOutput forward(INDArray input, LstmState state) {
        return forward(input, state, (int[]) null);
    }

    /**
     * PyTorch's packed-sequence run: {@code pack_padded_sequence(input, lengths, enforce_sorted=False)}, the LSTM,
     * then {@code pad_packed_sequence}. Output is zero past each sample's length; h_n and c_n come from each
     * sample's own last valid step (forward) and step 0 (backward, which starts at the sample's last valid step).
     *
     * @param state   (h0, c0) or null for zeros
     * @param lengths N lengths in 1..L, any order; null means every sample has length L
     */
    public LstmOutput forward(INDArray input, LstmState state, int[] lengths) {
        Layout.Call call = Layout.check(config, engine.dataType(), input, state, lengths);
        return engine.forward(call.input(), call.layout(), call.h0(), call.c0(), call.lengths(), training);
    }

    /** As {@link #forward(INDArray, LstmState, int[])} with lengths as an integer INDArray of N values. */
    public LstmOutput forward(INDArray input, LstmState state, INDArray lengths) {
        return forward(input, state, lengths == null ? null : toLengths(lengths));
    }

    /**
     * The gradients PyTorch's {@code autograd} gives for the scalar {@code (output * outputGradient).sum()}
     * after {@code forward(input, state, lengths)} in training mode: one entry per parameter, PyTorch's names
     * and shapes (so {@code bias_ih} and {@code bias_hh} get the same gradient, as in PyTorch).
     *
     * @param outputGradient dL/d(output), in the output's layout and shape
     */
    public Map<String, INDArray> gradients(INDArray input, LstmState state, int[] lengths, INDArray outputGradient) {
        Layout.Call call = Layout.check(config, engine.dataType(), input, state, lengths);
        Layout.checkOutputShaped(config, call, outputGradient, engine.dataType());
        return TorchParameterNames.named(engine.gradients(call.input(), call.layout(), call.h0(), call.c0(),
                call.lengths(), outputGradient));
    }

    /**
     * A stream over chunks of one long sequence, starting from zeros (unidirectional only).
     *
     * @throws UnsupportedOperationException for a bidirectional LSTM, which cannot stream
     */
    public LstmStream stream() {
        return new LstmStream(this, null);
    }

    /** A stream starting from {@code initial} (h0, c0). */
    public LstmStream stream(LstmState initial) {
        return new LstmStream(this, initial);
    }

    /** Training mode (the default, as in PyTorch): dropout between layers is applied. */
    public TorchLstm train() {
        training = true;
        return this;
    }

    /** Evaluation mode: no dropout. */
    public TorchLstm eval() {
        training = false;
        return this;
    }

    public boolean isTraining() {
        return training;
    }

    /** Copies of the parameters under PyTorch's names, in {@code state_dict()} order. */
    @Override
    public Map<String, INDArray> stateDict() {
        return TorchParameterNames.named(engine.parameters());
    }

    /**
     * PyTorch's {@code load_state_dict(strict=True)}: replaces every parameter. Missing keys, unexpected keys,
     * shape mismatches and wrong dtypes are all reported at once, before anything is changed.
     */
    @Override
    public void loadStateDict(Map<String, INDArray> stateDict) {
        StateDictValidator.validate(config, stateDict, "state_dict");
        Map<ParameterKey, INDArray> converted = new LinkedHashMap<>();
        TorchParameterNames.keyed(config, stateDict).forEach((k, v) -> converted.put(k, v.castTo(engine.dataType())));
        engine.loadParameters(converted);
    }

    @Override
    public LstmConfig config() {
        return config;
    }

    public Engine engine() {
        return engineKind;
    }

    @Override
    public DataType dataType() {
        return engine.dataType();
    }

    /**
     * The DL4J network that holds the parameters; train it with {@code fit}, save it with ModelSerializer. Its
     * parameters may then change in place without this instance knowing, so from the first call on, a FAST instance
     * computes a batch of one with GEMMs instead of from its transposed copy of the weights (the same bits, slower).
     */
    public ComputationGraph network() {
        return engine.network();
    }

    private static int[] toLengths(INDArray lengths) {
        if (lengths.rank() != 1 || !lengths.dataType().isIntType()) {
            throw new IllegalArgumentException("lengths must be a 1-D integer tensor of N values, got "
                    + lengths.rank() + "-D " + lengths.dataType() + " with shape "
                    + java.util.Arrays.toString(lengths.shape()));
        }
        long[] values = lengths.toLongVector();
        int[] ints = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] != (int) values[i]) {
                throw new IllegalArgumentException("lengths[" + i + "] = " + values[i] + " is outside the int range "
                        + "(each length must be in 1..L)");
            }
            ints[i] = (int) values[i];
        }
        return ints;
    }

    @Override
    public String toString() {
        return config + " [" + engineKind + ", " + engine.dataType() + "]";
    }
}
