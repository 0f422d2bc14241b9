package io.torchlstm4j.verify;

import java.util.ArrayList;
import java.util.List;

/**
 * Where each entry of {@code h_n} (and {@code c_n}) of a {@code torch.nn.LSTM} comes from: the layout the PyTorch
 * tutorial describes in prose, written out for one configuration.
 *
 * <p>Entry {@code layer * D + direction} belongs to that layer and direction. The forward direction's final state
 * is taken at the last step (each sample's own last valid step {@code lengths[n]-1} with packed sequences), the
 * backward direction's at step 0, where the backward pass ends. {@code output} holds only the top layer, forward
 * features first, so only the top layer's entries equal a slice of it.
 *
 * <p>Sizes may be symbolic: an output size or a sequence length of 0 is written as {@code H} or {@code L}.
 */
public final class LayoutMap {

    /**
     * One index of h_n.
     *
     * @param index       the index into dimension 0 of h_n and c_n
     * @param layer       0 = the layer that reads the input
     * @param direction   0 forward, 1 backward
     * @param timeStep    the time step the final state comes from, as text ({@code 4}, {@code L-1},
     *                    {@code lengths[n]-1} or {@code 0})
     * @param outputSlice the slice of {@code output} equal to {@code h_n[index]}, or null below the top layer
     */
    public record Entry(int index, int layer, int direction, String timeStep, String outputSlice) {
    }

    private final int numLayers;
    private final boolean bidirectional;
    private final boolean batchFirst;
    private final String outputSize;
    private final int seqLen;
    private final boolean packed;

    private LayoutMap(int numLayers, boolean bidirectional, boolean batchFirst, String outputSize, int seqLen,
                      boolean packed) {
        this.numLayers = numLayers;
        this.bidirectional = bidirectional;
        this.batchFirst = batchFirst;
        this.outputSize = outputSize;
        this.seqLen = seqLen;
        this.packed = packed;
    }

    /**
     * The map for a configuration.
     *
     * @param outputSize H_out (hiddenSize, or projSize when projections are used); 0 writes the symbol {@code H}
     * @param seqLen     L; 0 writes the symbol {@code L}
     * @param packed     true when per-sample lengths are given (PyTorch packed sequences)
     */
    public static LayoutMap of(int numLayers, boolean bidirectional, boolean batchFirst, int outputSize, int seqLen,
                               boolean packed) {
        if (numLayers < 1) {
            throw new IllegalArgumentException("numLayers must be at least 1, got " + numLayers);
        }
        if (outputSize < 0 || seqLen < 0) {
            throw new IllegalArgumentException("outputSize and seqLen must be positive, or 0 for a symbol; got "
                    + "outputSize=" + outputSize + ", seqLen=" + seqLen);
        }
        return new LayoutMap(numLayers, bidirectional, batchFirst, outputSize == 0 ? "H" : String.valueOf(outputSize),
                seqLen, packed);
    }

    /** D: 2 when bidirectional, else 1. */
    public int numDirections() {
        return bidirectional ? 2 : 1;
    }

    /** One entry per index of h_n, in index order. */
    public List<Entry> entries() {
        List<Entry> entries = new ArrayList<>();
        for (int layer = 0; layer < numLayers; layer++) {
            for (int direction = 0; direction < numDirections(); direction++) {
                String slice = layer == numLayers - 1 ? finalStepSlice("output", direction) : null;
                entries.add(new Entry(layer * numDirections() + direction, layer, direction, timeStep(direction),
                        slice));
            }
        }
        return List.copyOf(entries);
    }

    /**
     * The slice of a sequence tensor (a layer's output) at the final step of a direction, in PyTorch's indexing,
     * e.g. {@code output[-1, :, :20]}, {@code output[0, :, 20:]}, {@code output[lengths[n]-1, n, :20]} (forward
     * direction of packed sequences).
     */
    public String finalStepSlice(String tensor, int direction) {
        boolean perSample = packed && direction == 0;
        String time = direction == 1 ? "0" : perSample ? "lengths[n]-1" : "-1";
        String batch = perSample ? "n" : ":";
        String features = direction == 0 ? ":" + outputSize : outputSize + ":";
        return tensor + (batchFirst ? "[" + batch + ", " + time : "[" + time + ", " + batch) + ", " + features + "]";
    }

    /**
     * The entry of a state tensor compared with {@link #finalStepSlice}: {@code h_n[2]}, or {@code h_n[2, n]} for
     * the forward direction of packed sequences.
     */
    public String stateEntry(String tensor, int index, int direction) {
        return tensor + "[" + index + (packed && direction == 0 ? ", n]" : "]");
    }

    /** The time step of a direction's final state, as text. */
    public String timeStep(int direction) {
        if (direction == 1) {
            return "0";
        }
        if (packed) {
            return "lengths[n]-1";
        }
        return seqLen == 0 ? "L-1" : String.valueOf(seqLen - 1);
    }

    /** "forward" or "backward". */
    public static String directionName(int direction) {
        return direction == 0 ? "forward" : "backward";
    }
}
