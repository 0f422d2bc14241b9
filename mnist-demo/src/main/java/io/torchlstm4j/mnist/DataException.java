package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.cli.ProgramException;

/**
 * An input of the demo (data set, model, weights, image) cannot be found, read or used, or the data cannot be
 * downloaded; the message names the file or folder, the hint (when there is one) says what to do.
 */
public final class DataException extends ProgramException {

    /** A bad input ({@link ExitCode#BAD_INPUT}). */
    public DataException(String message) {
        this(ExitCode.BAD_INPUT, message, null, null);
    }

    /** A bad input ({@link ExitCode#BAD_INPUT}) found while reading {@code cause}. */
    public DataException(String message, Throwable cause) {
        this(ExitCode.BAD_INPUT, message, null, cause);
    }

    public DataException(ExitCode exitCode, String message, String hint, Throwable cause) {
        super(exitCode, message, hint, cause);
    }
}
