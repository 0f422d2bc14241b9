package io.torchlstm4j.verify;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.weights.Dl4jLstms;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.RecurrentLayer;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Checks a {@code torch.nn.LSTM} held by DL4J's own LSTM and Bidirectional(LSTM) layers ({@link Dl4jLstms}) from
 * what DL4J's layers output: runs the layers one after the other on an input (L, N, H_in), then, for every layer and
 * direction, compares the layer's output at the direction's final step (L-1 forward, 0 backward) with h_n of a
 * reference (the adapter, or a PyTorch run), the top layer's output with the reference's output, and for plain
 * LSTM layers DL4J's own final state (h and c, from {@code rnnTimeStep}) with the final step and with the
 * reference's c_n. DL4J's Bidirectional wrapper exposes no state, so its c_n cannot be seen (said in the notes).
 *
 * <p>Not safe for concurrent use with anything else that runs the same layers (DL4J layers keep their input).
 */
public final class NetworkVerifier {

    /**
     * The checks and what could not be checked.
     *
     * @param checks every comparison made
     * @param notes  what was not compared, and why
     */
    public record Result(List<CheckResult> checks, List<String> notes) {

        /** Copies the lists. */
        public Result {
            checks = List.copyOf(checks);
            notes = List.copyOf(notes);
        }

        public boolean passed() {
            return checks.stream().allMatch(CheckResult::passed);
        }
    }

    /**
     * The DL4J layers' run.
     *
     * @param outputs each layer's output, (L, N, D * H)
     * @param hN      each layer's final h from DL4J's own state (N, H); null for a Bidirectional layer
     * @param cN      each layer's final c from DL4J's own state (N, H); null for a Bidirectional layer
     */
    public record Run(List<INDArray> outputs, List<INDArray> hN, List<INDArray> cN) {
    }

    private NetworkVerifier() {
    }

    /** Runs the layers one after the other, from zero state, on {@code input} (L, N, H_in), in inference mode. */
    public static Run run(Dl4jLstms layers, INDArray input) {
        LstmConfig config = layers.config();
        List<INDArray> outputs = new ArrayList<>();
        List<INDArray> hN = new ArrayList<>();
        List<INDArray> cN = new ArrayList<>();
        INDArray x = input.castTo(layers.dataType());
        LayerWorkspaceMgr noWorkspaces = LayerWorkspaceMgr.noWorkspaces();
        for (Layer layer : layers.layers()) {
            RNNFormat format = format(layer.conf().getLayer());
            INDArray in = (format == RNNFormat.NWC ? x.permute(1, 0, 2) : x.permute(1, 2, 0)).dup();
            INDArray out;
            if (config.bidirectional()) {
                out = layer.activate(in, false, noWorkspaces);
                hN.add(null);
                cN.add(null);
            } else {
                RecurrentLayer recurrent = (RecurrentLayer) layer;
                recurrent.rnnClearPreviousState();
                out = recurrent.rnnTimeStep(in, noWorkspaces);
                Map<String, INDArray> state = recurrent.rnnGetPreviousState();
                hN.add(state.get("prevAct").dup());
                cN.add(state.get("prevMem").dup());
                recurrent.rnnClearPreviousState();
            }
            x = (format == RNNFormat.NWC ? out.permute(1, 0, 2) : out.permute(2, 0, 1)).dup();
            outputs.add(x);
        }
        return new Run(outputs, hN, cN);
    }

    /**
     * Runs the layers and checks them.
     *
     * @param input         (L, N, H_in)
     * @param reference     the reference's output, h_n and c_n for the same weights and input; null for DL4J's
     *                      own invariants only
     * @param referenceName how the reference is named in the checks, e.g. {@code adapter} or {@code PyTorch}
     */
    public static Result verify(Dl4jLstms layers, INDArray input, LstmOutput reference, String referenceName,
                                double atol) {
        LstmConfig config = layers.config();
        Run run = run(layers, input);
        int d = config.numDirections();
        int h = config.hiddenSize();
        LayoutMap map = LayoutMap.of(config.numLayers(), config.bidirectional(), false, h, (int) input.size(0), false);
        List<CheckResult> checks = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (int k = 0; k < config.numLayers(); k++) {
            String output = "dl4j output_l" + k;
            for (int dir = 0; dir < d; dir++) {
                int index = k * d + dir;
                INDArray finalStep = finalStep(run.outputs().get(k), dir, h);
                if (run.hN().get(k) != null) {
                    checks.add(check("final step = dl4j h", k, dir, map.finalStepSlice(output, dir)
                            + " vs dl4j rnnGetPreviousState h", finalStep, run.hN().get(k), atol));
                }
                if (reference != null) {
                    checks.add(check("final step = h_n", k, dir, map.finalStepSlice(output, dir) + " vs "
                            + referenceName + " " + map.stateEntry("h_n", index, dir), finalStep,
                            entry(reference.hN(), index), atol));
                    if (run.cN().get(k) != null) {
                        checks.add(check("dl4j c = c_n", k, dir, "dl4j rnnGetPreviousState c of layer " + k
                                + " vs " + referenceName + " c_n[" + index + "]", run.cN().get(k),
                                entry(reference.cN(), index), atol));
                    }
                }
            }
        }
        if (reference != null) {
            int top = config.numLayers() - 1;
            checks.add(check("output", top, CheckResult.ALL, "dl4j output_l" + top + " vs " + referenceName
                    + " output", run.outputs().get(top), reference.output(), atol));
        } else {
            notes.add("no reference: the final steps were not compared with h_n");
        }
        if (config.bidirectional()) {
            notes.add("c_n: DL4J's Bidirectional wrapper exposes no state (rnnGetPreviousState is unsupported), so "
                    + "c_n cannot be seen from its outputs");
        }
        return new Result(checks, notes);
    }

    private static CheckResult check(String name, int layer, int direction, String compared, INDArray actual,
                                     INDArray expected, double atol) {
        Difference diff = Difference.between(actual, expected.castTo(actual.dataType()));
        return new CheckResult(name, layer, direction, compared, diff.maxAbs(), diff.within(atol));
    }

    /** (N, H): a direction's features of an (L, N, D * H) output at its final step. */
    private static INDArray finalStep(INDArray output, int direction, long h) {
        long t = direction == 0 ? output.size(0) - 1 : 0;
        return output.get(NDArrayIndex.point(t), NDArrayIndex.all(),
                NDArrayIndex.interval(direction * h, (direction + 1) * h)).dup();
    }

    private static INDArray entry(INDArray state, int index) {
        return state.get(NDArrayIndex.point(index), NDArrayIndex.all(), NDArrayIndex.all()).dup();
    }

    private static RNNFormat format(org.deeplearning4j.nn.conf.layers.Layer conf) {
        if (conf instanceof Bidirectional b) return b.getRNNDataFormat();
        return ((BaseRecurrentLayer) conf).getRnnDataFormat();
    }
}
