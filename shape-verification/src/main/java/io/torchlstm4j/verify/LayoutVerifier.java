package io.torchlstm4j.verify;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.weights.TorchParameterNames;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Checks the layout invariants of {@code torch.nn.LSTM} on an LSTM built by a {@link LstmFactory}, for one
 * configuration, one set of parameters and one input, and reports every check with its max |difference|.
 *
 * <p>The checks, with D = 2 if bidirectional else 1, H = H_out, and {@code output_lk} the output of the same
 * LSTM cut to its layers 0..k (same parameters and initial states, via state_dict slicing):
 * <ol>
 * <li><b>shape</b>: output is (L, N, D * H) ((N, L, D * H) when batchFirst), h_n is (numLayers * D, N, H),
 *     c_n is (numLayers * D, N, H_cell). If a shape is wrong, no further check runs.</li>
 * <li><b>final step = h_n</b>, for every layer k and direction d: {@code output_lk} at the direction's final step
 *     equals {@code h_n[k * D + d]}; the forward final step is the last step (each sample's own last valid step
 *     when lengths are given), the backward final step is step 0.</li>
 * <li><b>tutorial slice = h_n</b>: the slices of {@code output} the PyTorch tutorial uses,
 *     {@code output[-1, :, :H]} and {@code output[0, :, H:]} (per sample with lengths), equal the top layer's
 *     entries of h_n.</li>
 * <li><b>two chunks</b> (unidirectional only; a backward direction cannot stream): the input split at step s,
 *     the second part run from the first part's (h_n, c_n), gives the same output, h_n and c_n as one run.
 *     This is what proves c_n: the second part only continues correctly from the right cell state, and its
 *     final c equals c_n. The carried c (c_n of the first part) also equals c_n of the whole input run with every
 *     length s, which catches a cell state lost at padding. With lengths, s is below the shortest length and the
 *     second part gets {@code lengths - s}.</li>
 * <li><b>sample alone</b>: each sample run alone (with lengths: alone and unpadded) gives its row of output
 *     (zeros past its length), h_n and c_n.</li>
 * </ol>
 * Every run is in evaluation mode. Checks that do not apply are listed in the report's notes.
 */
public final class LayoutVerifier {

    private final String subject;
    private final LstmFactory factory;

    /**
     * @param subject what the factory builds, for the report, e.g. {@code TorchLstm on engine REFERENCE}
     * @param factory builds the LSTMs to check
     */
    public LayoutVerifier(String subject, LstmFactory factory) {
        if (subject == null || factory == null) {
            throw new IllegalArgumentException("subject and factory are required");
        }
        this.subject = subject;
        this.factory = factory;
    }

    /** A verifier of the project's adapter {@link io.torchlstm4j.TorchLstm} on {@code engine}. */
    public static LayoutVerifier onAdapter(Engine engine) {
        return new LayoutVerifier("TorchLstm on engine " + engine, LstmFactory.adapter(engine));
    }

    /**
     * Runs every check that applies.
     *
     * @param stateDict PyTorch parameters for {@code config}, all FLOAT or all DOUBLE
     * @param input     a batch: (L, N, H_in), or (N, L, H_in) when batchFirst
     * @param state     (h0, c0) or null for zeros
     * @param lengths   per-sample lengths (packed sequence semantics) or null
     * @param atol      absolute tolerance of every numeric check (see {@link Tolerances#forward})
     */
    public VerificationReport verify(LstmConfig config, Map<String, INDArray> stateDict, INDArray input,
                                     LstmState state, int[] lengths, double atol) {
        if (config == null || stateDict == null || stateDict.isEmpty() || input == null) {
            throw new IllegalArgumentException("config, stateDict and input are required");
        }
        if (input.rank() != 3) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(input.shape()) + " but a batch "
                    + (config.batchFirst() ? "(N, L, H_in)" : "(L, N, H_in)") + " was expected: the checks compare "
                    + "samples of a batch (verify unbatched input as a batch of one)");
        }
        if (!(atol >= 0) || Double.isInfinite(atol)) {
            throw new IllegalArgumentException("atol must be a finite number >= 0, got " + atol);
        }
        return new Run(config, stateDict, input, state, lengths, atol).all();
    }

    /** One verification: its inputs, the full run, and the checks collected so far. */
    private final class Run {
        private final LstmConfig config;
        private final Map<String, INDArray> stateDict;
        private final INDArray input;
        private final LstmState state;
        private final int[] lengths;
        private final double atol;
        private final int d;
        private final int h;
        private final long seqLen;
        private final long batch;
        private final LayoutMap map;
        private final List<CheckResult> checks = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();
        private LstmFactory.Model model;
        private LstmOutput full;

        Run(LstmConfig config, Map<String, INDArray> stateDict, INDArray input, LstmState state, int[] lengths,
            double atol) {
            this.config = config;
            this.stateDict = stateDict;
            this.input = input;
            this.state = state;
            this.lengths = lengths == null ? null : lengths.clone();
            this.atol = atol;
            this.d = config.numDirections();
            this.h = config.outputSize();
            this.seqLen = input.size(config.batchFirst() ? 1 : 0);
            this.batch = input.size(config.batchFirst() ? 0 : 1);
            this.map = LayoutMap.of(config.numLayers(), config.bidirectional(), config.batchFirst(), h,
                    (int) seqLen, lengths != null);
        }

        VerificationReport all() {
            model = factory.build(config, stateDict);
            full = model.forward(input, state, lengths);
            if (shapes()) {
                for (int layer = 0; layer < config.numLayers(); layer++) {
                    finalSteps(layer);
                }
                tutorialSlices();
                twoChunks();
                for (int n = 0; n < batch; n++) {
                    sampleAlone(n);
                }
            } else {
                notes.add("the other checks did not run: they need the shapes right");
            }
            DataType dataType = stateDict.values().iterator().next().dataType();
            return new VerificationReport(config, subject, dataType, atol,
                    lengths == null ? null : IntStream.of(lengths).boxed().toList(), shapeOf(full.output()),
                    shapeOf(full.hN()), shapeOf(full.cN()), checks, notes);
        }

        private boolean shapes() {
            long[] output = config.batchFirst() ? new long[] {batch, seqLen, (long) d * h}
                    : new long[] {seqLen, batch, (long) d * h};
            String outputForm = config.batchFirst() ? "(N, L, D*H_out)" : "(L, N, D*H_out)";
            boolean ok = shape("output", full.output(), outputForm, output);
            ok &= shape("h_n", full.hN(), "(numLayers*D, N, H_out)", new long[] {config.stateLayers(), batch, h});
            ok &= shape("c_n", full.cN(), "(numLayers*D, N, H_cell)",
                    new long[] {config.stateLayers(), batch, config.hiddenSize()});
            return ok;
        }

        private boolean shape(String tensor, INDArray actual, String form, long[] expected) {
            boolean ok = actual != null && Arrays.equals(actual.shape(), expected);
            String found = actual == null ? "null" : Arrays.toString(actual.shape());
            checks.add(new CheckResult("shape", CheckResult.ALL, CheckResult.ALL,
                    tensor + " " + found + " vs " + form + " = " + Arrays.toString(expected), Double.NaN, ok));
            return ok;
        }

        private void finalSteps(int layer) {
            LstmConfig prefix = config.toBuilder().numLayers(layer + 1).build();
            Map<String, INDArray> params = new LinkedHashMap<>();
            for (String name : TorchParameterNames.expectedShapes(prefix).keySet()) {
                params.put(name, stateDict.get(name));
            }
            LstmState prefixState = state == null ? null
                    : new LstmState(firstEntries(state.h(), (layer + 1) * d), firstEntries(state.c(), (layer + 1) * d));
            LstmOutput out = factory.build(prefix, params).forward(input, prefixState, lengths);
            for (int direction = 0; direction < d; direction++) {
                int index = layer * d + direction;
                compare("final step = h_n", layer, direction,
                        map.finalStepSlice("output_l" + layer, direction) + " vs "
                                + map.stateEntry("h_n", index, direction),
                        finalStep(out.output(), direction), entry(full.hN(), index));
            }
        }

        private void tutorialSlices() {
            int top = config.numLayers() - 1;
            for (int direction = 0; direction < d; direction++) {
                int index = top * d + direction;
                compare("tutorial slice = h_n", top, direction,
                        map.finalStepSlice("output", direction) + " vs " + map.stateEntry("h_n", index, direction),
                        finalStep(full.output(), direction), entry(full.hN(), index));
            }
        }

        private void twoChunks() {
            if (config.bidirectional()) {
                notes.add("two chunks: does not apply to a bidirectional LSTM (its backward direction starts at the "
                        + "end of the sequence, so it cannot run in chunks)");
                return;
            }
            long shortest = lengths == null ? seqLen : IntStream.of(lengths).min().orElseThrow();
            if (shortest < 2) {
                notes.add("two chunks: needs every sample to have at least 2 steps, the shortest has " + shortest);
                return;
            }
            long split = shortest / 2;
            int[] rest = lengths == null ? null : IntStream.of(lengths).map(n -> n - (int) split).toArray();
            LstmOutput first = model.forward(timeSlice(input, 0, split), state, null);
            LstmOutput second = model.forward(timeSlice(input, split, seqLen), first.state(), rest);
            int timeAxis = config.batchFirst() ? 1 : 0;
            String head = config.batchFirst() ? "x[:, :" + split + "]" : "x[:" + split + "]";
            String tail = config.batchFirst() ? "x[:, " + split + ":]" : "x[" + split + ":]";
            compare("two chunks: output", CheckResult.ALL, CheckResult.ALL,
                    "cat(out(" + head + "), out(" + tail + ")) vs output",
                    Nd4j.concat(timeAxis, first.output(), second.output()), full.output());
            compare("two chunks: h_n", CheckResult.ALL, CheckResult.ALL,
                    "h_n of " + tail + " from (h_n, c_n) of " + head + " vs h_n", second.hN(), full.hN());
            compare("two chunks: c_n", CheckResult.ALL, CheckResult.ALL,
                    "c_n of " + tail + " from (h_n, c_n) of " + head + " vs c_n", second.cN(), full.cN());
            int[] prefix = new int[(int) batch];
            Arrays.fill(prefix, (int) split);
            LstmOutput packed = model.forward(input, state, prefix);
            compare("two chunks: carried c", CheckResult.ALL, CheckResult.ALL,
                    "c_n of " + head + " vs c_n of x with every length " + split, first.cN(), packed.cN());
        }

        private void sampleAlone(int n) {
            long length = lengths == null ? seqLen : lengths[n];
            INDArray x = canonical(input).get(NDArrayIndex.interval(0, length), NDArrayIndex.interval(n, n + 1),
                    NDArrayIndex.all()).dup();
            LstmState alone = state == null ? null
                    : new LstmState(sample(state.h(), n), sample(state.c(), n));
            LstmOutput out = model.forward(config.batchFirst() ? x.permute(1, 0, 2).dup() : x, alone, null);
            INDArray row = canonical(full.output()).get(NDArrayIndex.all(), NDArrayIndex.interval(n, n + 1),
                    NDArrayIndex.all()).dup();
            INDArray padded = Nd4j.zeros(row.dataType(), row.shape());
            INDArray aloneOutput = canonical(out.output());
            double output = Double.POSITIVE_INFINITY;
            if (Arrays.equals(aloneOutput.shape(), new long[] {length, 1, row.size(2)})) {
                padded.put(new INDArrayIndex[] {NDArrayIndex.interval(0, length), NDArrayIndex.all(),
                        NDArrayIndex.all()}, aloneOutput);
                output = Difference.between(padded, row).maxAbs();
            }
            double states = Math.max(Difference.between(out.hN(), sample(full.hN(), n)).maxAbs(),
                    Difference.between(out.cN(), sample(full.cN(), n)).maxAbs());
            double max = Math.max(output, states);
            String rowText = config.batchFirst() ? "output[" + n + "]" : "output[:, " + n + "]";
            String unpadded = lengths == null ? "" : " (" + length + " steps, unpadded)";
            String zeros = lengths == null || length == seqLen ? "" : " (zeros from t=" + length + ")";
            checks.add(new CheckResult("sample alone", CheckResult.ALL, CheckResult.ALL,
                    "sample " + n + " alone" + unpadded + " vs " + rowText + zeros + ", h_n[:, " + n + "], c_n[:, "
                            + n + "]", max, max <= atol));
        }

        private void compare(String name, int layer, int direction, String compared, INDArray actual,
                             INDArray expected) {
            Difference diff = Difference.between(actual, expected);
            checks.add(new CheckResult(name, layer, direction, compared, diff.maxAbs(), diff.within(atol)));
        }

        /** (N, H): a sequence in the caller's layout at a direction's final step, per sample with lengths. */
        private INDArray finalStep(INDArray sequence, int direction) {
            INDArray seq = canonical(sequence);
            INDArray rows = Nd4j.create(seq.dataType(), batch, h);
            for (int n = 0; n < batch; n++) {
                long t = direction == 1 ? 0 : lengths == null ? seqLen - 1 : lengths[n] - 1;
                rows.putRow(n, seq.get(NDArrayIndex.point(t), NDArrayIndex.point(n),
                        NDArrayIndex.interval((long) direction * h, (long) (direction + 1) * h)).dup());
            }
            return rows;
        }

        /** A sequence tensor in (L, N, F), whatever the caller's layout. */
        private INDArray canonical(INDArray sequence) {
            return config.batchFirst() ? sequence.permute(1, 0, 2) : sequence;
        }

        /** Time steps [from, to) of a sequence in the caller's layout. */
        private INDArray timeSlice(INDArray sequence, long from, long to) {
            INDArrayIndex time = NDArrayIndex.interval(from, to);
            return (config.batchFirst() ? sequence.get(NDArrayIndex.all(), time, NDArrayIndex.all())
                    : sequence.get(time, NDArrayIndex.all(), NDArrayIndex.all())).dup();
        }
    }

    private static INDArray entry(INDArray stateTensor, int index) {
        return stateTensor.get(NDArrayIndex.point(index), NDArrayIndex.all(), NDArrayIndex.all()).dup();
    }

    private static INDArray firstEntries(INDArray stateTensor, int count) {
        return stateTensor.get(NDArrayIndex.interval(0, count), NDArrayIndex.all(), NDArrayIndex.all()).dup();
    }

    private static INDArray sample(INDArray stateTensor, int n) {
        return stateTensor.get(NDArrayIndex.all(), NDArrayIndex.interval(n, n + 1), NDArrayIndex.all()).dup();
    }

    private static List<Long> shapeOf(INDArray x) {
        return x == null ? List.of() : Arrays.stream(x.shape()).boxed().toList();
    }
}
