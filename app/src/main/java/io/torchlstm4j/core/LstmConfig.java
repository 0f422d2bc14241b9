package io.torchlstm4j.core;

/**
 * The constructor arguments of {@code torch.nn.LSTM}, with PyTorch's names (in camelCase) and defaults.
 *
 * <p>Build one with {@link #builder(int, int)}: {@code inputSize} and {@code hiddenSize} are required,
 * everything else defaults as in PyTorch: {@code numLayers = 1}, {@code bias = true},
 * {@code batchFirst = false}, {@code dropout = 0}, {@code bidirectional = false}, {@code projSize = 0}.
 * Invalid values are rejected with PyTorch's rule in the message.
 *
 * <p>Immutable and safe for concurrent use.
 *
 * @param inputSize     H_in, the number of expected features in the input
 * @param hiddenSize    H_cell, the number of features in the cell state (and in h when projSize = 0)
 * @param numLayers     number of stacked LSTM layers
 * @param bias          whether the layers use the biases {@code b_ih} and {@code b_hh}
 * @param batchFirst    input and output are (N, L, F) instead of (L, N, F); never applies to h and c
 * @param dropout       drop probability on the outputs of every layer but the last, in training only
 * @param bidirectional D = 2 when true, else D = 1
 * @param projSize      P: size of the projection of h (LSTMP), 0 for none
 */
public record LstmConfig(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst,
                         double dropout, boolean bidirectional, int projSize) {

    /** Validates the values with PyTorch's rules. */
    public LstmConfig {
        if (inputSize <= 0) {
            throw new IllegalArgumentException("inputSize must be positive, got " + inputSize);
        }
        if (hiddenSize <= 0) {
            throw new IllegalArgumentException("hidden_size must be greater than zero, got hiddenSize=" + hiddenSize);
        }
        if (numLayers <= 0) {
            throw new IllegalArgumentException("num_layers must be greater than zero, got numLayers=" + numLayers);
        }
        if (!(dropout >= 0 && dropout <= 1)) {
            throw new IllegalArgumentException("dropout should be a number in range [0, 1] representing the "
                    + "probability of an element being zeroed, got dropout=" + dropout);
        }
        if (projSize < 0) {
            throw new IllegalArgumentException("proj_size should be a positive integer or zero to disable "
                    + "projections, got projSize=" + projSize);
        }
        if (projSize >= hiddenSize) {
            throw new IllegalArgumentException("proj_size has to be smaller than hidden_size, got projSize="
                    + projSize + " and hiddenSize=" + hiddenSize);
        }
        if (parameterCount(inputSize, hiddenSize, numLayers, bias, bidirectional, projSize) < 0) {
            throw new IllegalArgumentException("LSTM(" + inputSize + ", " + hiddenSize + ", num_layers=" + numLayers
                    + ", proj_size=" + projSize + ", bidirectional=" + bidirectional + ") would have more than 2^63 "
                    + "parameters");
        }
    }

    /**
     * The number of parameters of all layers and directions: per layer and direction 4 * H_cell * (layer input
     * + H_out) weights, 8 * H_cell biases when {@code bias}, and P * H_cell projection weights when projSize = P > 0.
     */
    public long parameterCount() {
        return parameterCount(inputSize, hiddenSize, numLayers, bias, bidirectional, projSize);
    }

    /** As {@link #parameterCount()}, or -1 when it overflows a long. */
    private static long parameterCount(long inputSize, long hiddenSize, long numLayers, boolean bias,
                                       boolean bidirectional, long projSize) {
        try {
            long d = bidirectional ? 2 : 1;
            long out = projSize > 0 ? projSize : hiddenSize;
            long gates = Math.multiplyExact(4, hiddenSize);
            long fixed = Math.addExact(Math.multiplyExact(gates, out), Math.multiplyExact(projSize, hiddenSize));
            if (bias) fixed = Math.addExact(fixed, Math.multiplyExact(2, gates));
            long first = Math.addExact(fixed, Math.multiplyExact(gates, inputSize));
            long upper = Math.addExact(fixed, Math.multiplyExact(gates, Math.multiplyExact(d, out)));
            long perDirection = Math.addExact(first, Math.multiplyExact(numLayers - 1, upper));
            return Math.multiplyExact(d, perDirection);
        } catch (ArithmeticException overflow) {
            return -1;
        }
    }

    /** A builder with PyTorch's defaults for everything but the two required sizes. */
    public static Builder builder(int inputSize, int hiddenSize) {
        return new Builder(inputSize, hiddenSize);
    }

    /** A builder preset with this configuration's values. */
    public Builder toBuilder() {
        return new Builder(inputSize, hiddenSize).numLayers(numLayers).bias(bias).batchFirst(batchFirst)
                .dropout(dropout).bidirectional(bidirectional).projSize(projSize);
    }

    /** D: 2 when bidirectional, else 1. */
    public int numDirections() {
        return bidirectional ? 2 : 1;
    }

    /** H_out: projSize when projections are used, else hiddenSize. The size of h and of each direction's output. */
    public int outputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /** The input feature size of layer {@code layer}: inputSize for layer 0, else D * H_out. */
    public int layerInputSize(int layer) {
        return layer == 0 ? inputSize : numDirections() * outputSize();
    }

    /** The size of the state dimension 0: numLayers * D. */
    public int stateLayers() {
        return numLayers * numDirections();
    }

    /**
     * Equal when every component is, as a record compares them (dropout by {@link Double#compare}); written out
     * because a record's generated equals bootstraps method handles on its first call, milliseconds of a fast layer's
     * first use (docs/performance.md, "Start-up").
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof LstmConfig c && inputSize == c.inputSize && hiddenSize == c.hiddenSize
                && numLayers == c.numLayers && bias == c.bias && batchFirst == c.batchFirst
                && Double.compare(dropout, c.dropout) == 0 && bidirectional == c.bidirectional
                && projSize == c.projSize;
    }

    @Override
    public int hashCode() {
        int h = inputSize;
        h = 31 * h + hiddenSize;
        h = 31 * h + numLayers;
        h = 31 * h + Boolean.hashCode(bias);
        h = 31 * h + Boolean.hashCode(batchFirst);
        h = 31 * h + Double.hashCode(dropout);
        h = 31 * h + Boolean.hashCode(bidirectional);
        return 31 * h + projSize;
    }

    /** PyTorch's repr, e.g. {@code LSTM(10, 20, num_layers=2, bidirectional=True)}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("LSTM(").append(inputSize).append(", ").append(hiddenSize);
        if (projSize != 0) s.append(", proj_size=").append(projSize);
        if (numLayers != 1) s.append(", num_layers=").append(numLayers);
        if (!bias) s.append(", bias=False");
        if (batchFirst) s.append(", batch_first=True");
        if (dropout != 0) s.append(", dropout=").append(dropout);
        if (bidirectional) s.append(", bidirectional=True");
        return s.append(')').toString();
    }

    /** Builder for {@link LstmConfig}; every optional value starts at PyTorch's default. */
    public static final class Builder {
        private final int inputSize;
        private final int hiddenSize;
        private int numLayers = 1;
        private boolean bias = true;
        private boolean batchFirst = false;
        private double dropout = 0;
        private boolean bidirectional = false;
        private int projSize = 0;

        private Builder(int inputSize, int hiddenSize) {
            this.inputSize = inputSize;
            this.hiddenSize = hiddenSize;
        }

        /** Default 1. */
        public Builder numLayers(int v) { numLayers = v; return this; }
        /** Default true. */
        public Builder bias(boolean v) { bias = v; return this; }
        /** Default false. */
        public Builder batchFirst(boolean v) { batchFirst = v; return this; }
        /** Default 0. */
        public Builder dropout(double v) { dropout = v; return this; }
        /** Default false. */
        public Builder bidirectional(boolean v) { bidirectional = v; return this; }
        /** Default 0 (no projection). */
        public Builder projSize(int v) { projSize = v; return this; }

        public LstmConfig build() {
            return new LstmConfig(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize);
        }
    }
}
