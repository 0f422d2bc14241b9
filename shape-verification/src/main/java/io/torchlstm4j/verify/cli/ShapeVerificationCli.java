package io.torchlstm4j.verify.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The {@code shape-verification} program: {@code verify}, {@code compare}, {@code explain} and {@code network}. Results go to
 * stdout, logs and errors to stderr; the exit codes are those of {@link ExitCodes}.
 */
@Command(name = "shape-verification", mixinStandardHelpOptions = true, version = "shape-verification 0.1.0",
        description = "Shows that a torch.nn.LSTM on Deeplearning4j (TorchLSTM4j) has PyTorch's layouts and numbers.",
        subcommands = {VerifyCommand.class, CompareCommand.class, ExplainCommand.class, NetworkCommand.class},
        exitCodeListHeading = "%nExit codes:%n", exitCodeList = {
                "0:all checks passed",
                "1:an error, e.g. a file that cannot be read",
                "2:usage error",
                "3:a check failed or a number differs",
                "4:a feature the adapter does not support"})
public final class ShapeVerificationCli implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The program with its commands and error handling, ready for {@link CommandLine#execute}. */
    public static CommandLine commandLine() {
        return commandLine(CommandLine.defaultFactory());
    }

    /** The program with the commands {@code factory} makes (tests swap in a command with a test double). */
    static CommandLine commandLine(CommandLine.IFactory factory) {
        return new CommandLine(new ShapeVerificationCli(), factory)
                .setCaseInsensitiveEnumValuesAllowed(true)
                .setParameterExceptionHandler(ShapeVerificationCli::usage)
                .setExecutionExceptionHandler(ShapeVerificationCli::handle);
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing command: verify, compare, explain or network");
    }

    /** A usage error: the message and where to find help, not the whole usage text. */
    private static int usage(ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        command.getErr().println("error: " + e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, command.getErr());
        command.getErr().println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
        return ExitCodes.USAGE;
    }

    /** Expected failures become a message and an exit code; anything else is a bug and keeps its stack trace. */
    private static int handle(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        if (e instanceof UnsupportedOperationException) {
            command.getErr().println("unsupported: " + e.getMessage());
            return ExitCodes.UNSUPPORTED;
        }
        if (e instanceof IllegalArgumentException) {
            command.getErr().println("error: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        command.getErr().println("error: unexpected " + e);
        e.printStackTrace(command.getErr());
        return ExitCodes.ERROR;
    }
}
