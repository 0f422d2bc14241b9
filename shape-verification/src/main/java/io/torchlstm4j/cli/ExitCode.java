package io.torchlstm4j.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of TorchLSTM4j's programs ({@code shape-verification}, {@code mnist-demo}): the same code for the
 * same kind of failure in every program and command. A program that has no check to fail never returns
 * {@link #FAILED}, but the numbers keep their meaning.
 *
 * <p>Immutable; safe for concurrent use.
 */
public enum ExitCode {

    /** Success: the command did what was asked and every check passed. */
    OK(0, "success: every check passed"),
    /** The command ran, and a check failed or a number differs from the reference beyond the tolerance. */
    FAILED(1, "a check failed, or a number differs beyond the tolerance"),
    /** The command line is wrong: an unknown option, a missing argument, a value out of range. */
    USAGE(2, "usage error: unknown option, missing argument or value out of range"),
    /** An input (file, folder, data set, model, image) is missing, unreadable, corrupt or of the wrong kind. */
    BAD_INPUT(3, "bad input: a named file or data set is missing, unreadable or corrupt"),
    /** A valid request that the library or the chosen engine does not support; the message names the feature. */
    UNSUPPORTED(4, "unsupported: a feature the library or engine does not support (named)"),
    /** The environment let the command down: an output that cannot be written, a download that failed, ... */
    ENVIRONMENT(5, "I/O or environment error, e.g. an output that cannot be written"),
    /** A bug: an exception no program expects; its stack trace is printed. */
    INTERNAL(70, "internal error (a bug): the stack trace is printed");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The process exit status. */
    public int code() {
        return code;
    }

    /** One line for a program's {@code --help}. */
    public String meaning() {
        return meaning;
    }

    /** Every code and its meaning, in order, as picocli's {@code exitCodeList} wants them. */
    static Map<String, String> helpList() {
        Map<String, String> list = new LinkedHashMap<>();
        for (ExitCode c : values()) {
            list.put(String.format("%2d", c.code), c.meaning);
        }
        return list;
    }
}
