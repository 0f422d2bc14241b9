package io.torchlstm4j.spark;

/** What a job does with a row that cannot be scored ({@link RowProblem}). Safe for concurrent use. */
public enum ErrorPolicy {
    /** Fail the job with a {@link CorruptRowException} naming the row and what is wrong with it. */
    FAIL,
    /** Leave the row out of the predictions and count it by {@link RowProblem}. */
    SKIP
}
