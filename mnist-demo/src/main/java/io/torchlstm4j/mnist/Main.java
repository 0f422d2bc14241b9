package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.VersionProvider;
import io.torchlstm4j.cli.Programs;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Set;

/**
 * {@code java -jar mnist-demo.jar [train|evaluate|predict] [options]}: the PyTorch tutorial's MNIST LSTM
 * classifier on DL4J. Without a command (or with options only) it runs {@code train}. Exit codes and error reports
 * follow {@link Programs}.
 */
@Command(name = "mnist-demo", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "The PyTorch tutorial's MNIST LSTM classifier (each image row is a time step) on DL4J. "
                + "Without a command: train.",
        subcommands = {TrainCommand.class, EvaluateCommand.class, PredictCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    private static final Set<String> TOP_LEVEL_OPTIONS = Set.of("-h", "--help", "-V", "--version");

    public static void main(String[] args) {
        System.exit(commandLine().execute(withDefaultCommand(args)));
    }

    /** The command line with the error handling of the program (for tests: set its out and err). */
    static CommandLine commandLine() {
        System.setProperty("java.awt.headless", "true");
        return Programs.configure(new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true));
    }

    /** {@code train} when no command is named (no arguments, or options only). */
    static String[] withDefaultCommand(String[] args) {
        if (args.length > 0 && (!args[0].startsWith("-") || TOP_LEVEL_OPTIONS.contains(args[0]))) {
            return args;
        }
        String[] withTrain = new String[args.length + 1];
        withTrain[0] = "train";
        System.arraycopy(args, 0, withTrain, 1, args.length);
        return withTrain;
    }
}
