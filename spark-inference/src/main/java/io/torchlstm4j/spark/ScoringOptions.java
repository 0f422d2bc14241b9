package io.torchlstm4j.spark;

import io.torchlstm4j.core.Engine;

import java.io.Serializable;

/**
 * How {@link LstmScorer} reads rows and runs the model. Immutable.
 *
 * @param featuresColumn the sequence: array&lt;array&lt;number&gt;&gt; (steps x input_size), array&lt;number&gt;
 *                       (steps * input_size values, step after step) or a string of such numbers separated by
 *                       spaces (CSV)
 * @param idColumn       a column copied to the predictions and named in errors; null for none
 * @param lstmPrefix     the nn.LSTM's keys in the state_dict, e.g. {@code "rnn."} ({@code ""} for a bare nn.LSTM)
 * @param headPrefix     the nn.Linear head's keys, e.g. {@code "out."}; null for none (the final states are then
 *                       written, as with {@code finalState})
 * @param engine         the LSTM engine
 * @param batchSize      sequences per forward call within a partition
 * @param maxLength      longest sequence accepted (steps); longer rows are {@link RowProblem#TOO_LONG}
 * @param onError        what a row that cannot be scored does
 * @param finalState     whether to write h_n and c_n of each sequence
 *
 * <p>Immutable; safe for concurrent use.
 */
public record ScoringOptions(String featuresColumn, String idColumn, String lstmPrefix, String headPrefix,
                             Engine engine, int batchSize, int maxLength, ErrorPolicy onError, boolean finalState)
        implements Serializable {

    /** Checks the values. */
    public ScoringOptions {
        if (featuresColumn == null || lstmPrefix == null || engine == null || onError == null) {
            throw new IllegalArgumentException("featuresColumn, lstmPrefix, engine and onError are required (got "
                    + featuresColumn + ", " + lstmPrefix + ", " + engine + ", " + onError + ")");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be at least 1, got " + batchSize);
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("maxLength must be at least 1, got " + maxLength);
        }
    }

    /**
     * The tutorial's model ({@code rnn.} and {@code out.}) on column {@code features}, no id, the FAST engine,
     * batches of 256, at most 10000 steps, failing on a corrupt row, no final states.
     */
    public static ScoringOptions defaults() {
        return new ScoringOptions("features", null, "rnn.", "out.", Engine.FAST, 256, 10_000, ErrorPolicy.FAIL,
                false);
    }
}
