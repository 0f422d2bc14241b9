package io.torchlstm4j.verify.cli;

import io.torchlstm4j.cli.VersionProvider;
import io.torchlstm4j.cli.Programs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The {@code shape-verification} program: {@code verify}, {@code compare}, {@code explain} and {@code network}.
 * Results go to stdout, logs and errors to stderr; exit codes and error reports follow {@link Programs}.
 */
@Command(name = "shape-verification", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Shows that a torch.nn.LSTM on Deeplearning4j (TorchLSTM4j) has PyTorch's layouts and numbers.",
        subcommands = {VerifyCommand.class, CompareCommand.class, ExplainCommand.class, NetworkCommand.class})
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
        return Programs.configure(new CommandLine(new ShapeVerificationCli(), factory)
                .setCaseInsensitiveEnumValuesAllowed(true));
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing command: verify, compare, explain or network");
    }
}
