package io.torchlstm4j.verify;

/**
 * The outcome of one check of a {@link VerificationReport}.
 *
 * @param name              what is checked, e.g. {@code final step = h_n}
 * @param layer             the layer the check is about, or {@link #ALL} when it is about the whole LSTM
 * @param direction         0 forward, 1 backward, or {@link #ALL}
 * @param compared          the two sides compared, in PyTorch's indexing, e.g. {@code output[-1, :, :20] vs h_n[2]}
 * @param maxAbsDifference  max |actual - expected| over the compared elements; NaN for a shape check and when a side
 *                          holds NaN, infinite when the two sides' shapes differ
 * @param passed            true when the shapes match and the difference is within the tolerance
 */
public record CheckResult(String name, int layer, int direction, String compared, double maxAbsDifference,
                          boolean passed) {

    /** The value of {@code layer} and {@code direction} for checks about the whole LSTM. */
    public static final int ALL = -1;
}
