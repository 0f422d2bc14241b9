package io.torchlstm4j.engine.reference;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterInit;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.core.SequenceLayout;
import io.torchlstm4j.engine.LstmEngine;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.recurrent.LSTM;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * DL4J's stock {@code LSTM} layers, one per layer and direction, in a ComputationGraph
 * (see {@link ReferenceLayers}); this class owns the state plumbing.
 *
 * <p>Initial states go in through {@code rnnSetPreviousState} and final states come out of
 * {@code rnnGetPreviousState} around one {@code rnnTimeStep} over the whole sequence. Per-sample lengths are
 * run as PyTorch defines them: each group of samples of equal length on its own, unpadded. Gradients come from
 * DL4J's own backpropagation with the lengths as a feature mask.
 *
 * <p>What DL4J's stock layers cannot do is refused, never approximated: projections, gradients from a non-zero
 * (h0, c0), and a training-mode forward with dropout (DL4J applies it inside {@code fit} only).
 *
 * <p>Parameters come and go under {@link ParameterKey}s, through {@link io.torchlstm4j.core.GateMapping} (DL4J's gate
 * order); PyTorch's names are the adapter's business.
 *
 * <p>Safe for concurrent use by serialising: its calls drive one DL4J network's state, so they run one at a time.
 */
final class ReferenceEngine implements LstmEngine {

    private static final String INPUT = "input";
    private static final String PREFIX = "";

    private final LstmConfig config;
    private final DataType dataType;
    private final ComputationGraph net;

    ReferenceEngine(LstmConfig config, DataType dataType, long seed) {
        this.config = config;
        this.dataType = dataType;
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder()
                .dataType(dataType)
                .seed(seed)
                .updater(new Adam(1e-3))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                // an LSTM vertex that is itself a graph output breaks rnnTimeStep with workspaces (facts doc)
                .inferenceWorkspaceMode(WorkspaceMode.NONE)
                .graphBuilder()
                .addInputs(INPUT);
        String output = ReferenceLayers.addTo(graph, INPUT, INPUT, config, PREFIX);
        graph.setOutputs(output);
        net = new ComputationGraph(graph.build());
        net.init();
        ReferenceLayers.loadParameters(net, PREFIX, config, ParameterInit.lstm(config, dataType, seed));
    }

    @Override
    public LstmConfig config() {
        return config;
    }

    @Override
    public DataType dataType() {
        return dataType;
    }

    /**
     * The one place where this engine translates the caller's layout: DL4J's stock layers take NCW, built from an
     * (L, N, F) view here (unbatched tensors get N = 1), and the results go back as views in the caller's layout.
     */
    @Override
    public LstmOutput forward(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0, int[] lengths,
                              boolean training) {
        LstmOutput result = forwardSequenceFirst(layout.toSequenceFirst(input), batched(layout, h0),
                batched(layout, c0), lengths, training);
        return new LstmOutput(layout.fromSequenceFirst(result.output()), unbatched(layout, result.hN()),
                unbatched(layout, result.cN()));
    }

    @Override
    public Map<ParameterKey, INDArray> gradients(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0,
                                                 int[] lengths, INDArray outputGradient) {
        return gradientsSequenceFirst(layout.toSequenceFirst(input), batched(layout, h0), batched(layout, c0),
                lengths, layout.toSequenceFirst(outputGradient));
    }

    /** A state (numLayers * D, N, H): unbatched ones (numLayers * D, H) get N = 1; null stays null. */
    private static INDArray batched(SequenceLayout layout, INDArray state) {
        return state == null || !layout.unbatched() ? state : state.reshape(state.size(0), 1, state.size(1));
    }

    private static INDArray unbatched(SequenceLayout layout, INDArray state) {
        return layout.unbatched() ? state.reshape(state.size(0), state.size(2)) : state;
    }

    private synchronized LstmOutput forwardSequenceFirst(INDArray input, INDArray h0, INDArray c0, int[] lengths,
                                                         boolean training) {
        if (training && config.dropout() > 0) {
            throw new UnsupportedOperationException("The REFERENCE engine cannot run a training-mode forward with "
                    + "dropout=" + config.dropout() + ": DL4J's stock LSTM applies dropout only inside fit() and "
                    + "returns no c_n there. Call eval() for inference, or use Engine.FAST");
        }
        long seqLen = input.size(0);
        if (lengths == null || IntStream.of(lengths).allMatch(l -> l == seqLen)) {
            return runWhole(input, h0, c0);
        }
        long batch = input.size(1);
        int stateLayers = config.stateLayers();
        INDArray output = Nd4j.zeros(dataType, seqLen, batch, (long) config.numDirections() * config.outputSize());
        INDArray hN = Nd4j.zeros(dataType, stateLayers, batch, config.outputSize());
        INDArray cN = Nd4j.zeros(dataType, stateLayers, batch, config.hiddenSize());
        Map<Integer, int[]> groups = new TreeMap<>();
        for (int length : lengths) {
            groups.computeIfAbsent(length, l -> IntStream.range(0, lengths.length).filter(i -> lengths[i] == l).toArray());
        }
        for (Map.Entry<Integer, int[]> group : groups.entrySet()) {
            INDArrayIndex time = NDArrayIndex.interval(0, group.getKey());
            INDArrayIndex samples = NDArrayIndex.indices(toLong(group.getValue()));
            LstmOutput part = runWhole(input.get(time, samples, NDArrayIndex.all()),
                    h0 == null ? null : h0.get(NDArrayIndex.all(), samples, NDArrayIndex.all()),
                    c0 == null ? null : c0.get(NDArrayIndex.all(), samples, NDArrayIndex.all()));
            for (int j = 0; j < group.getValue().length; j++) {
                INDArrayIndex sample = NDArrayIndex.point(group.getValue()[j]);
                INDArrayIndex row = NDArrayIndex.point(j);
                output.get(time, sample, NDArrayIndex.all()).assign(part.output().get(NDArrayIndex.all(), row, NDArrayIndex.all()));
                hN.get(NDArrayIndex.all(), sample, NDArrayIndex.all()).assign(part.hN().get(NDArrayIndex.all(), row, NDArrayIndex.all()));
                cN.get(NDArrayIndex.all(), sample, NDArrayIndex.all()).assign(part.cN().get(NDArrayIndex.all(), row, NDArrayIndex.all()));
            }
        }
        return new LstmOutput(output, hN, cN);
    }

    /** One rnnTimeStep over the whole sequence (every sample of length L) from (h0, c0), or from zeros when null. */
    private LstmOutput runWhole(INDArray input, INDArray h0, INDArray c0) {
        long batch = input.size(1);
        net.rnnClearPreviousState();
        try {
            for (int layer = 0; h0 != null && layer < config.numLayers(); layer++) {
                for (int dir = 0; dir < config.numDirections(); dir++) {
                    int index = layer * config.numDirections() + dir;
                    Map<String, INDArray> state = new HashMap<>();
                    state.put(LSTM.STATE_KEY_PREV_ACTIVATION, h0.get(NDArrayIndex.point(index)).dup('c'));
                    state.put(LSTM.STATE_KEY_PREV_MEMCELL, c0.get(NDArrayIndex.point(index)).dup('c'));
                    net.rnnSetPreviousState(ReferenceLayers.lstmVertex(PREFIX, layer, dir), state);
                }
            }
            INDArray out = net.rnnTimeStep(input.permute(1, 2, 0).dup('c'))[0];
            if (out.rank() == 2) {
                out = out.reshape(out.size(0), out.size(1), 1);
            }
            INDArray hN = Nd4j.create(dataType, config.stateLayers(), batch, config.outputSize());
            INDArray cN = Nd4j.create(dataType, config.stateLayers(), batch, config.hiddenSize());
            for (int layer = 0; layer < config.numLayers(); layer++) {
                for (int dir = 0; dir < config.numDirections(); dir++) {
                    int index = layer * config.numDirections() + dir;
                    Map<String, INDArray> state = net.rnnGetPreviousState(ReferenceLayers.lstmVertex(PREFIX, layer, dir));
                    hN.get(NDArrayIndex.point(index)).assign(state.get(LSTM.STATE_KEY_PREV_ACTIVATION));
                    cN.get(NDArrayIndex.point(index)).assign(state.get(LSTM.STATE_KEY_PREV_MEMCELL));
                }
            }
            return new LstmOutput(out.permute(2, 0, 1).dup('c'), hN, cN);
        } finally {
            net.rnnClearPreviousState();
        }
    }

    private synchronized Map<ParameterKey, INDArray> gradientsSequenceFirst(INDArray input, INDArray h0, INDArray c0,
                                                                            int[] lengths, INDArray outputGradient) {
        if (h0 != null && (h0.amaxNumber().doubleValue() != 0 || c0.amaxNumber().doubleValue() != 0)) {
            throw new UnsupportedOperationException("The REFERENCE engine cannot compute gradients from a non-zero "
                    + "(h0, c0): DL4J's stock LSTM trains only from zero state. Use Engine.FAST");
        }
        INDArray mask = lengths == null ? null : lengthMask(lengths, input.size(0));
        try {
            net.setLayerMaskArrays(mask == null ? null : new INDArray[] {mask}, null);
            net.feedForward(new INDArray[] {input.permute(1, 2, 0).dup('c')}, true, false);
            INDArray epsilon = outputGradient.permute(1, 2, 0).dup('c');
            if (mask != null) {
                // PyTorch's output past a length is a constant zero: its gradient reaches no parameter
                epsilon.muli(mask.reshape(mask.size(0), 1, mask.size(1)));
            }
            Gradient gradient = net.backpropGradient(epsilon);
            Map<String, INDArray> dl4j = new LinkedHashMap<>();
            gradient.gradientForVariable().forEach((k, v) -> dl4j.put(k, v.dup()));
            return ReferenceLayers.gradients(dl4j, PREFIX, config);
        } finally {
            net.clearLayerMaskArrays();
            net.clear();
        }
    }

    private INDArray lengthMask(int[] lengths, long seqLen) {
        INDArray mask = Nd4j.zeros(dataType, lengths.length, seqLen);
        for (int i = 0; i < lengths.length; i++) {
            mask.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, lengths[i])).assign(1);
        }
        return mask;
    }

    private static long[] toLong(int[] values) {
        return IntStream.of(values).asLongStream().toArray();
    }

    @Override
    public synchronized Map<ParameterKey, INDArray> parameters() {
        return ReferenceLayers.parameters(net, PREFIX, config);
    }

    @Override
    public synchronized void loadParameters(Map<ParameterKey, INDArray> parameters) {
        ReferenceLayers.loadParameters(net, PREFIX, config, parameters);
    }

    @Override
    public ComputationGraph network() {
        return net;
    }
}
