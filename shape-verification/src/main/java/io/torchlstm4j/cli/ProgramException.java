package io.torchlstm4j.cli;

/**
 * An expected failure of a program: what went wrong (naming the option, file or tensor), an optional hint on what
 * to do, and the {@link ExitCode} it ends with. {@link Programs} prints it as {@code error: ...} and
 * {@code hint: ...} without a stack trace.
 *
 * <p>Immutable; safe for concurrent use.
 */
public class ProgramException extends RuntimeException {

    private final ExitCode exitCode;
    private final String hint;

    public ProgramException(ExitCode exitCode, String message) {
        this(exitCode, message, null, null);
    }

    public ProgramException(ExitCode exitCode, String message, String hint, Throwable cause) {
        super(message, cause);
        if (exitCode == ExitCode.OK) {
            throw new IllegalArgumentException("a failure cannot exit with " + exitCode);
        }
        this.exitCode = exitCode;
        this.hint = hint;
    }

    /** The exit code the program ends with. */
    public ExitCode exitCode() {
        return exitCode;
    }

    /** What to do about it, or null. */
    public String hint() {
        return hint;
    }
}
