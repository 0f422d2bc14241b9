package io.torchlstm4j;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.core.SequenceLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * The one place that checks a caller's tensors against PyTorch's shape rules and resolves their layout (a
 * {@link SequenceLayout} from {@code batchFirst} and the input's rank), which goes down to the engine with the
 * tensors as they are: nothing is permuted or reshaped here.
 *
 * <p>Every check runs on shapes alone, before any ND4J operation, and a failure names the tensor, the
 * expected and the actual shape.
 */
final class Layout {

    /**
     * A validated call: the caller's tensors and their layout. {@code h0}/{@code c0} are both null for zeros;
     * {@code lengths} may be null.
     */
    record Call(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0, int[] lengths) {
    }

    private Layout() {
    }

    /** Checks a call and resolves its layout. */
    static Call check(LstmConfig config, DataType dataType, INDArray input, LstmState state, int[] lengths) {
        if (input == null) {
            throw new IllegalArgumentException("input is null: expected (L, N, H_in)"
                    + (config.batchFirst() ? " with batchFirst=true: (N, L, H_in)" : "") + " or unbatched (L, H_in)");
        }
        long[] shape = input.shape();
        if (shape.length != 2 && shape.length != 3) {
            throw new IllegalArgumentException("LSTM: Expected input to be 2D or 3D, got " + shape.length
                    + "D instead: input has shape " + Arrays.toString(shape) + " but "
                    + inputForm(config) + " or unbatched (L, H_in) was expected");
        }
        checkDataType("input", input, dataType);
        boolean unbatched = shape.length == 2;
        long seqLen = unbatched || !config.batchFirst() ? shape[0] : shape[1];
        long batch = unbatched ? 1 : (config.batchFirst() ? shape[0] : shape[1]);
        long features = shape[shape.length - 1];
        if (features != config.inputSize()) {
            long[] expected = shape.clone();
            expected[expected.length - 1] = config.inputSize();
            throw new IllegalArgumentException("input has shape " + Arrays.toString(shape) + " but "
                    + (unbatched ? "(L, H_in)" : inputForm(config)) + " = " + Arrays.toString(expected)
                    + " with H_in = " + config.inputSize()
                    + " was expected: input.size(-1) must be equal to input_size. Expected "
                    + config.inputSize() + ", got " + features);
        }
        if (seqLen < 1 || batch < 1) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(shape)
                    + ": sequence length L and batch N must be at least 1");
        }
        MemoryBounds.checkOffHeap(() -> "input " + Arrays.toString(shape) + " needs at least the output and one layer's "
                + "input projections: L * N * (D * H_out + 4 * H_cell)", MemoryBounds.product(seqLen, batch,
                (long) config.numDirections() * config.outputSize() + 4L * config.hiddenSize()), dataType);
        INDArray h0 = null;
        INDArray c0 = null;
        if (state != null && (state.h() != null || state.c() != null)) {
            if (state.h() == null || state.c() == null) {
                throw new IllegalArgumentException("Only one of h0/c0 was given (" + (state.h() == null ? "h0" : "c0")
                        + " is null): pass both, or neither for zeros");
            }
            int expectedRank = unbatched ? 2 : 3;
            if (state.h().rank() != expectedRank || state.c().rank() != expectedRank) {
                throw new IllegalArgumentException((unbatched ? "For unbatched 2-D input, hx and cx should also be 2-D"
                        : "For batched 3-D input, hx and cx should also be 3-D") + " but got (" + state.h().rank()
                        + "-D, " + state.c().rank() + "-D) tensors: h0 has shape " + Arrays.toString(state.h().shape())
                        + ", c0 has shape " + Arrays.toString(state.c().shape()));
            }
            checkState("h0", state.h(), config, batch, config.outputSize(), unbatched, shape);
            checkState("c0", state.c(), config, batch, config.hiddenSize(), unbatched, shape);
            checkDataType("h0", state.h(), dataType);
            checkDataType("c0", state.c(), dataType);
            h0 = state.h();
            c0 = state.c();
        }
        int[] checkedLengths = lengths == null ? null : checkLengths(lengths, batch, seqLen);
        return new Call(input, SequenceLayout.of(config.batchFirst(), shape.length), h0, c0, checkedLengths);
    }

    /** Checks a tensor shaped like the output of {@code call} (e.g. its gradient), in the call's layout. */
    static void checkOutputShaped(LstmConfig config, Call call, INDArray tensor, DataType dataType) {
        SequenceLayout layout = call.layout();
        long[] expected = layout.shape(layout.steps(call.input()), layout.batch(call.input()),
                (long) config.numDirections() * config.outputSize());
        if (tensor == null || !Arrays.equals(tensor.shape(), expected)) {
            throw new IllegalArgumentException("outputGradient has shape "
                    + (tensor == null ? "null" : Arrays.toString(tensor.shape())) + " but the output's shape "
                    + Arrays.toString(expected) + " was expected");
        }
        checkDataType("outputGradient", tensor, dataType);
    }

    static int[] checkLengths(int[] lengths, long batch, long seqLen) {
        if (lengths.length != batch) {
            throw new IllegalArgumentException("lengths has " + lengths.length + " entries but the batch has N = "
                    + batch + " samples: one length per sample was expected");
        }
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] < 1 || lengths[i] > seqLen) {
                throw new IllegalArgumentException("lengths[" + i + "] = " + lengths[i]
                        + " is out of range: every length must be in 1..L = 1.." + seqLen);
            }
        }
        return lengths.clone();
    }

    private static void checkState(String name, INDArray s, LstmConfig config, long batch, long size,
                                   boolean unbatched, long[] inputShape) {
        long[] expected = unbatched ? new long[] {config.stateLayers(), size}
                : new long[] {config.stateLayers(), batch, size};
        if (Arrays.equals(s.shape(), expected)) {
            return;
        }
        String form = unbatched ? "(numLayers * D, " + (name.startsWith("h") ? "H_out" : "H_cell") + ")"
                : "(numLayers * D, N, " + (name.startsWith("h") ? "H_out" : "H_cell") + ")";
        String msg = name + " has shape " + Arrays.toString(s.shape()) + " but " + form + " = "
                + Arrays.toString(expected) + " was expected (numLayers=" + config.numLayers() + ", bidirectional="
                + config.bidirectional() + ", batch " + batch + ")";
        if (!unbatched && s.rank() == 3 && s.size(0) == expected[0] && s.size(2) == expected[2]) {
            long other = config.batchFirst() ? inputShape[1] : inputShape[0];
            if (s.size(1) == other && other != batch) {
                msg += "; did you mean batchFirst=" + !config.batchFirst() + "?";
            }
        }
        throw new IllegalArgumentException(msg);
    }

    private static void checkDataType(String name, INDArray a, DataType expected) {
        if (a.dataType() != expected) {
            throw new IllegalArgumentException(name + " has dtype " + a.dataType() + " but the LSTM's parameters are "
                    + expected + ": convert it with castTo(DataType." + expected + ")");
        }
    }

    private static String inputForm(LstmConfig config) {
        return config.batchFirst() ? "(N, L, H_in) (batchFirst=true)" : "(L, N, H_in)";
    }
}
