package io.torchlstm4j.cli;

import io.torchlstm4j.io.TensorFileException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;

/**
 * The conventions every TorchLSTM4j program follows, installed on its picocli command line by {@link #configure}:
 * the {@link ExitCode}s (listed in every command's {@code --help}), and errors printed to stderr as one
 * {@code error: ...} line, followed by a {@code hint: ...} line where there is something to suggest.
 *
 * <p>How failures map to exit codes:
 * <ul>
 *   <li>{@link ProgramException} (and subclasses): its own code and hint;</li>
 *   <li>picocli's {@link ParameterException} and {@link IllegalArgumentException}: {@link ExitCode#USAGE} (in a
 *       program the caller's arguments are the command line; a program wraps an argument that came from a file
 *       in a {@link ProgramException} with {@link ExitCode#BAD_INPUT});</li>
 *   <li>{@link TensorFileException} (a corrupt or unsupported tensor file): {@link ExitCode#BAD_INPUT};</li>
 *   <li>{@link UnsupportedOperationException} (the library refuses a feature): {@link ExitCode#UNSUPPORTED};</li>
 *   <li>other {@link IOException}s and {@link UncheckedIOException}: {@link ExitCode#ENVIRONMENT};</li>
 *   <li>anything else is a bug: {@link ExitCode#INTERNAL} with its stack trace.</li>
 * </ul>
 *
 * <p>This lives in {@code shape-verification}, the module that already is a library with picocli, so that both
 * programs share it without putting picocli into the TorchLSTM4j library itself.
 *
 * <p>Stateless; safe for concurrent use (each configured {@code CommandLine} belongs to its caller).
 */
public final class Programs {

    private Programs() {
    }

    /** Installs the exit code list in every command's help and the error handling; returns {@code commandLine}. */
    public static CommandLine configure(CommandLine commandLine) {
        addExitCodeList(commandLine);
        return commandLine.setParameterExceptionHandler(Programs::usage)
                .setExecutionExceptionHandler((e, command, parsed) -> failure(e, command));
    }

    private static void addExitCodeList(CommandLine command) {
        command.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n")
                .exitCodeList(ExitCode.helpList());
        for (CommandLine sub : command.getSubcommands().values()) {
            addExitCodeList(sub);
        }
    }

    /** A usage error: the message, picocli's suggestions for a mistyped option, and where to find help. */
    private static int usage(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        // some of picocli's messages start with their own "Error: "
        err.println("error: " + e.getMessage().replaceFirst("^Error: ", ""));
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.println("hint: '" + command.getCommandSpec().qualifiedName() + " --help' lists the options");
        err.flush();
        return ExitCode.USAGE.code();
    }

    /** An exception from a command: a message and its exit code; only a bug gets a stack trace. */
    static int failure(Exception e, CommandLine command) {
        if (e instanceof ParameterException p) {
            return usage(p, new String[0]);
        }
        PrintWriter err = command.getErr();
        ExitCode code = exitCodeOf(e);
        if (code == ExitCode.INTERNAL) {
            err.println("error: internal error (a bug, please report it with this output): " + e);
            e.printStackTrace(err);
        } else {
            err.println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            String hint = e instanceof ProgramException p ? p.hint() : null;
            if (code == ExitCode.USAGE && hint == null) {
                hint = "'" + command.getCommandSpec().qualifiedName() + " --help' lists the options";
            }
            if (hint != null) {
                err.println("hint: " + hint);
            }
        }
        err.flush();
        return code.code();
    }

    /** The exit code a failure ends a program with (see the class comment). */
    public static ExitCode exitCodeOf(Throwable e) {
        if (e instanceof ProgramException p) return p.exitCode();
        if (e instanceof ParameterException || e instanceof IllegalArgumentException) return ExitCode.USAGE;
        if (e instanceof TensorFileException) return ExitCode.BAD_INPUT;
        if (e instanceof UnsupportedOperationException) return ExitCode.UNSUPPORTED;
        if (e instanceof IOException || e instanceof UncheckedIOException) return ExitCode.ENVIRONMENT;
        return ExitCode.INTERNAL;
    }
}
