package io.torchlstm4j.verify.cli;

/** The exit codes of every command. */
final class ExitCodes {

    /** Every check or comparison passed. */
    static final int OK = 0;
    /** An error that is not the caller's usage: e.g. a file that cannot be read. */
    static final int ERROR = 1;
    /** A usage error: an unknown option, a missing argument, a value out of range. */
    static final int USAGE = 2;
    /** A check failed or a number differs from PyTorch's beyond the tolerance. */
    static final int MISMATCH = 3;
    /** A fixture or option needs a feature the adapter does not support (yet). */
    static final int UNSUPPORTED = 4;

    private ExitCodes() {
    }
}
