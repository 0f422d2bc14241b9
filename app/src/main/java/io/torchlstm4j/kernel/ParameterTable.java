package io.torchlstm4j.kernel;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where each layer's and direction's parameters sit in the two flat parameter vectors the fast engine keeps: {@code W}
 * (every weight) and {@code b} (every bias, absent without bias). Offsets are in elements from the start of their
 * vector; each block is a c-order matrix of {@code rows x columns} (a bias: {@code rows x 1}).
 *
 * <p>Order: the {@link ParameterKey#all} order within each of the two groups, with {@link ParameterKey#shape}'s
 * shapes. With H = hiddenSize, P = projSize, H_out = P if P &gt; 0 else H and I_k the input size of layer k: in
 * {@code W}, for each layer, for each direction, w_ih (4H x I_k), w_hh (4H x H_out), then w_hr (P x H) when P &gt; 0;
 * in {@code b}, for each layer, for each direction, b_ih (4H), then b_hh (4H). Gate rows in the order i, f, g, o.
 *
 * <p>An immutable value; safe for concurrent use.
 *
 * @param weightCount elements of {@code W}
 * @param biasCount   elements of {@code b} (0 without bias)
 * @param slots       one per layer and direction, layer-major: slot {@code layer * D + direction}
 */
public record ParameterTable(long weightCount, long biasCount, List<Slot> slots) {

    /**
     * A block of one vector.
     *
     * @param offset  first element, from the start of its vector
     * @param rows    rows of the c-order matrix
     * @param columns columns (1 for a bias)
     */
    public record Block(long offset, long rows, long columns) {
        public long size() {
            return rows * columns;
        }
    }

    /**
     * One layer's and direction's blocks; the biases are in {@code b}, the rest in {@code W}.
     *
     * @param wIh input weights, 4H x I_k
     * @param wHh recurrent weights, 4H x H_out
     * @param bIh input bias, 4H x 1, or null without bias
     * @param bHh recurrent bias, 4H x 1, or null without bias
     * @param wHr projection weights, P x H, or null without projection
     */
    public record Slot(int layer, int direction, Block wIh, Block wHh, Block bIh, Block bHh, Block wHr) {
    }

    public ParameterTable {
        slots = List.copyOf(slots);
    }

    /** The table of {@code config} (its batchFirst and dropout do not matter). */
    public static ParameterTable of(LstmConfig config) {
        long w = 0;
        long b = 0;
        Map<ParameterKey, Block> blocks = new HashMap<>();
        for (ParameterKey key : ParameterKey.all(config)) {
            long[] shape = key.shape(config);
            Block block = new Block(key.kind().isBias() ? b : w, shape[0], shape.length > 1 ? shape[1] : 1);
            if (key.kind().isBias()) {
                b += block.size();
            } else {
                w += block.size();
            }
            blocks.put(key, block);
        }
        List<Slot> slots = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.numDirections(); dir++) {
                slots.add(new Slot(layer, dir, blocks.get(new ParameterKey(layer, dir, ParameterKey.Kind.WEIGHT_IH)),
                        blocks.get(new ParameterKey(layer, dir, ParameterKey.Kind.WEIGHT_HH)),
                        blocks.get(new ParameterKey(layer, dir, ParameterKey.Kind.BIAS_IH)),
                        blocks.get(new ParameterKey(layer, dir, ParameterKey.Kind.BIAS_HH)),
                        blocks.get(new ParameterKey(layer, dir, ParameterKey.Kind.WEIGHT_HR))));
            }
        }
        return new ParameterTable(w, b, slots);
    }

    /** The block of {@code key}: in {@code b} for a bias, else in {@code W}. */
    public Block block(ParameterKey key) {
        Slot slot = slot(key.layer(), key.direction());
        Block block = switch (key.kind()) {
            case WEIGHT_IH -> slot.wIh();
            case WEIGHT_HH -> slot.wHh();
            case BIAS_IH -> slot.bIh();
            case BIAS_HH -> slot.bHh();
            case WEIGHT_HR -> slot.wHr();
        };
        if (block == null) {
            throw new IllegalStateException("internal: the table has no block for " + key);
        }
        return block;
    }

    /** Elements of {@code W} and {@code b} together. */
    public long parameterCount() {
        return weightCount + biasCount;
    }

    /** The blocks of a layer and direction. */
    public Slot slot(int layer, int direction) {
        int directions = slots.get(slots.size() - 1).direction() + 1;
        Slot slot = slots.get(layer * directions + direction);
        if (slot.layer() != layer || slot.direction() != direction) {
            throw new IllegalStateException("internal: slot of layer " + layer + " direction " + direction + " is "
                    + slot);
        }
        return slot;
    }
}
