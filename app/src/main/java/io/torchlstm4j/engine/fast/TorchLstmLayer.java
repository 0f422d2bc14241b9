package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.kernel.ParameterTable;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Collection;
import java.util.Map;
import java.util.Objects;

/**
 * A whole {@code torch.nn.LSTM} (every layer and direction, optional projections) as one DL4J layer: usable in a
 * MultiLayerNetwork or ComputationGraph, trained by {@code fit} with any updater, saved by ModelSerializer.
 *
 * <p>Data is DL4J's RNN format: NCW {@code [N, H_in, L]} in, {@code [N, D * H_out, L]} out (NWC with
 * {@code dataFormat(RNNFormat.NWC)}); the output is PyTorch's {@code output}. A feature mask {@code [N, L]} must be
 * ones followed by zeros in each row: it is read as per-sample lengths with PyTorch's packed-sequence semantics
 * (output 0 past each length, the backward direction starting at each sample's last valid step, no gradient from
 * padding). {@code dropout} is PyTorch's: on the outputs of every layer but the last, in training only; DL4J's own
 * {@code dropOut} setting, if any, still acts on this layer's input as for any DL4J layer.
 *
 * <p>Parameters are PyTorch's, with PyTorch's shapes and layout (the {@link io.torchlstm4j.core.ParameterKey}s:
 * weight_ih (4H, H_in), weight_hh (4H, H_out), bias_ih, bias_hh, weight_hr (P, H) of each layer and direction; gate
 * rows i, f, g, o), so a state_dict maps one to one ({@link FastLstm#parameters} by key,
 * {@code io.torchlstm4j.LstmLayers.stateDict} by PyTorch's names). Inside DL4J they are
 * two variables, {@code "W"} (all weights) and {@code "b"} (all biases), laid out by
 * {@link TorchLstmParamInitializer}. They are initialised like PyTorch:
 * U(-1/sqrt(H), 1/sqrt(H)), whatever {@code weightInit} says. Initial state is zero in {@code output} and {@code fit};
 * {@code rnnTimeStep} (unidirectional only) carries (h, c) between calls under the state keys {@link #STATE_H} and
 * {@link #STATE_C}, shaped like PyTorch's (numLayers, N, H_out) and (numLayers, N, H).
 *
 * <p>A layer configuration: safe to share once built (its runtime, {@link TorchLstmLayerImpl}, says what is safe
 * for concurrent calls).
 */
public final class TorchLstmLayer extends BaseRecurrentLayer {

    /** rnnTimeStep state key of h, (numLayers, N, H_out). */
    public static final String STATE_H = "h";
    /** rnnTimeStep state key of c, (numLayers, N, H). */
    public static final String STATE_C = "c";

    @JsonProperty
    private int hiddenSize;
    @JsonProperty
    private int numLayers;
    @JsonProperty
    private boolean bias;
    @JsonProperty
    private double dropout;
    @JsonProperty
    private boolean bidirectional;
    @JsonProperty
    private int projSize;
    @JsonProperty
    private boolean inputGradient = true;
    /**
     * {@link #PARAMETER_LAYOUT} for every layer built now; null in a configuration saved by an earlier snapshot, which
     * laid the parameters out differently (one DL4J variable per tensor, in state_dict order).
     */
    @JsonProperty
    private String parameterLayout;

    /** The layout of {@link TorchLstmParamInitializer}: all weights, then all biases. */
    static final String PARAMETER_LAYOUT = "weights-then-biases";

    /** For JSON deserialization only. */
    private TorchLstmLayer() {
    }

    private TorchLstmLayer(Builder builder) {
        super(builder);
        LstmConfig c = builder.config;
        this.hiddenSize = c.hiddenSize();
        this.numLayers = c.numLayers();
        this.bias = c.bias();
        this.dropout = c.dropout();
        this.bidirectional = c.bidirectional();
        this.projSize = c.projSize();
        this.inputGradient = builder.inputGradient;
        this.parameterLayout = PARAMETER_LAYOUT;
        this.nIn = c.inputSize();
        this.nOut = (long) c.numDirections() * c.outputSize();
    }

    /** The layer for {@code config} ({@code batchFirst} does not apply: DL4J data is NCW, or NWC by dataFormat). */
    public static TorchLstmLayer of(LstmConfig config) {
        return new Builder(config).build();
    }

    /** The LSTM's configuration; inputSize follows nIn (set from the input type when the network is built). */
    public LstmConfig lstmConfig() {
        return LstmConfig.builder(Math.toIntExact(nIn), hiddenSize).numLayers(numLayers).bias(bias).dropout(dropout)
                .bidirectional(bidirectional).projSize(projSize).build();
    }

    /** False when backprop skips the gradient with respect to the layer's input (see {@link Builder#inputGradient}). */
    public boolean inputGradient() {
        return inputGradient;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("TorchLstmLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        if (!PARAMETER_LAYOUT.equals(parameterLayout)) {
            throw new IllegalStateException("TorchLstmLayer '" + getLayerName() + "': its configuration has parameter "
                    + "layout " + (parameterLayout == null ? "(none: saved by an earlier TorchLSTM4j snapshot, one "
                    + "variable per tensor)" : "'" + parameterLayout + "'") + " but '" + PARAMETER_LAYOUT + "' was "
                    + "expected; its parameters would be read in the wrong order. Export the LSTM's state_dict with "
                    + "the version that saved it and load that here (LstmLayers.loadStateDict)");
        }
        CpuBackendOnly.require();
        TorchLstmLayerImpl layer = new TorchLstmLayerImpl(conf, networkDataType);
        layer.setListeners(trainingListeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(layerParamsView);
        Map<String, INDArray> params = initializer().init(conf, layerParamsView, initializeParams);
        layer.setParamTable(params);
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return TorchLstmParamInitializer.getInstance();
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        LstmConfig c = lstmConfig();
        long params = TorchLstmParamInitializer.getInstance().numParams(this);
        long perStep = 0;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            perStep += c.numDirections() * (6L * c.hiddenSize() + 2L * c.outputSize() + c.layerInputSize(layer));
        }
        return new LayerMemoryReport.Builder(getLayerName(), TorchLstmLayer.class, inputType,
                getOutputType(-1, inputType))
                .standardMemory(params, params)
                .workingMemory(0, perStep, MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof TorchLstmLayer other) || !super.equals(o)) {
            return false;
        }
        return hiddenSize == other.hiddenSize && numLayers == other.numLayers && bias == other.bias
                && Double.compare(dropout, other.dropout) == 0 && bidirectional == other.bidirectional
                && projSize == other.projSize && inputGradient == other.inputGradient
                && Objects.equals(parameterLayout, other.parameterLayout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), hiddenSize, numLayers, bias, dropout, bidirectional, projSize,
                inputGradient, parameterLayout);
    }

    @Override
    public String toString() {
        return "TorchLstmLayer(" + lstmConfig() + ", name=" + getLayerName() + ", format=" + getRnnDataFormat() + ")";
    }

    /** Number of parameters: the elements of {@code W} and {@code b} ({@link ParameterTable}). */
    static long numParams(LstmConfig config) {
        return ParameterTable.of(config).parameterCount();
    }

    /**
     * Builder: the LSTM's arguments come from an {@link LstmConfig}; the inherited DL4J options (name, updater,
     * regularization, {@code dataFormat}, ...) work as for any layer. nIn and nOut are set from the config.
     */
    public static final class Builder extends BaseRecurrentLayer.Builder<Builder> {
        private final LstmConfig config;
        private boolean inputGradient = true;

        public Builder(LstmConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            nIn(config.inputSize());
            nOut((long) config.numDirections() * config.outputSize());
        }

        /**
         * Default true. False makes backprop return no gradient for the layer's input (a null epsilon) and skip
         * computing it: right for a layer fed directly by a network input, whose gradient DL4J discards.
         */
        public Builder inputGradient(boolean inputGradient) {
            this.inputGradient = inputGradient;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public TorchLstmLayer build() {
            long expected = (long) config.numDirections() * config.outputSize();
            if (nIn != config.inputSize() || nOut != expected) {
                throw new IllegalArgumentException("TorchLstmLayer takes nIn and nOut from its LstmConfig: nIn="
                        + nIn + " and nOut=" + nOut + " were set but " + config + " has nIn = inputSize = "
                        + config.inputSize() + " and nOut = D * H_out = " + expected);
            }
            return new TorchLstmLayer(this);
        }
    }
}
