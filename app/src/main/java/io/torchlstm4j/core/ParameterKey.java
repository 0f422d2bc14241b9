package io.torchlstm4j.core;

import java.util.ArrayList;
import java.util.List;

/**
 * One parameter tensor of an LSTM, named by position rather than by any framework's spelling: its layer, its
 * direction and what it is. Engines and the kernel receive parameters under these keys; the PyTorch boundary
 * ({@code io.torchlstm4j.weights.TorchParameterNames}) is the one place that turns them into PyTorch's names.
 *
 * <p>Shapes, with H = hiddenSize, P = projSize, H_out = P if P &gt; 0 else H and I_k the input size of layer k
 * (inputSize for k = 0, else D * H_out); gate blocks of H rows in the order i, f, g, o (the equations' order, which
 * is also PyTorch's):
 * <pre>
 * WEIGHT_IH  (4H, I_k)
 * WEIGHT_HH  (4H, H_out)
 * BIAS_IH    (4H)         when bias
 * BIAS_HH    (4H)         when bias
 * WEIGHT_HR  (P, H)       when P &gt; 0
 * </pre>
 *
 * <p>An immutable value; safe for concurrent use.
 *
 * @param layer     the layer k, from 0
 * @param direction 0 forward, 1 backward
 * @param kind      which tensor of the layer and direction it is
 */
public record ParameterKey(int layer, int direction, Kind kind) {

    /** What a parameter is, within its layer and direction. */
    public enum Kind {
        /** The input weights, (4H, I_k). */
        WEIGHT_IH,
        /** The recurrent weights, (4H, H_out). */
        WEIGHT_HH,
        /** The input bias, (4H). */
        BIAS_IH,
        /** The recurrent bias, (4H). */
        BIAS_HH,
        /** The projection weights, (P, H). */
        WEIGHT_HR;

        /** True for the two biases. */
        public boolean isBias() {
            return this == BIAS_IH || this == BIAS_HH;
        }
    }

    public ParameterKey {
        if (layer < 0 || direction < 0 || direction > 1 || kind == null) {
            throw new IllegalArgumentException("a parameter key needs layer >= 0, direction 0 or 1 and a kind, got "
                    + "layer " + layer + ", direction " + direction + ", kind " + kind);
        }
    }

    // equals and hashCode written out: a record's generated ones link through java.lang.runtime.ObjectMethods at
    // their first call, which nothing else in a DL4J program uses, and that first link is about 15 ms of start-up
    // (docs/performance.md); these keys are hashed while the first network is built.

    @Override
    public boolean equals(Object other) {
        return other instanceof ParameterKey k && k.layer == layer && k.direction == direction && k.kind == kind;
    }

    @Override
    public int hashCode() {
        return layer * 16 + direction * 8 + kind.ordinal(); // distinct for every key (fewer than 8 kinds)
    }

    /**
     * Every parameter of {@code config} in the canonical order: for each layer, for each direction, WEIGHT_IH,
     * WEIGHT_HH, then BIAS_IH and BIAS_HH when bias, then WEIGHT_HR when projSize &gt; 0 (the order of PyTorch's
     * {@code state_dict()}, so maps in this order translate to it one to one).
     */
    public static List<ParameterKey> all(LstmConfig config) {
        List<ParameterKey> keys = new ArrayList<>();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < config.numDirections(); dir++) {
                keys.add(new ParameterKey(layer, dir, Kind.WEIGHT_IH));
                keys.add(new ParameterKey(layer, dir, Kind.WEIGHT_HH));
                if (config.bias()) {
                    keys.add(new ParameterKey(layer, dir, Kind.BIAS_IH));
                    keys.add(new ParameterKey(layer, dir, Kind.BIAS_HH));
                }
                if (config.projSize() > 0) {
                    keys.add(new ParameterKey(layer, dir, Kind.WEIGHT_HR));
                }
            }
        }
        return List.copyOf(keys);
    }

    /** This parameter's shape in {@code config} (the table above): the one place that states it. */
    public long[] shape(LstmConfig config) {
        long gates = 4L * config.hiddenSize();
        return switch (kind) {
            case WEIGHT_IH -> new long[] {gates, config.layerInputSize(layer)};
            case WEIGHT_HH -> new long[] {gates, config.outputSize()};
            case BIAS_IH, BIAS_HH -> new long[] {gates};
            case WEIGHT_HR -> new long[] {config.projSize(), config.hiddenSize()};
        };
    }

    @Override
    public String toString() {
        return kind + " of layer " + layer + (direction == 0 ? "" : " (backward)");
    }
}
