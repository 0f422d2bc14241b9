package io.torchlstm4j.spark;

/** Why a row cannot be scored. Each kind is counted separately when rows are skipped. Safe for concurrent use. */
public enum RowProblem {
    /** The features are null, or hold a null value. */
    NULL,
    /** The number of values is not a positive multiple of input_size, or a step has the wrong number of values. */
    SHAPE,
    /** A value is NaN or infinite. */
    NON_FINITE,
    /** More steps than the job's maximum length. */
    TOO_LONG,
    /** A text value that is not a number. */
    NOT_A_NUMBER
}
