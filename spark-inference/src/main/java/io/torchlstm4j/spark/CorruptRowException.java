package io.torchlstm4j.spark;

/**
 * A row that cannot be scored under {@link ErrorPolicy#FAIL}: the message names the row and what is wrong.
 * Immutable; safe for concurrent use.
 */
public final class CorruptRowException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final RowProblem problem;

    public CorruptRowException(RowProblem problem, String message) {
        super(message);
        this.problem = problem;
    }

    public RowProblem problem() {
        return problem;
    }
}
