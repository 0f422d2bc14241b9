package io.torchlstm4j.spark;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * {@code spark-submit --class io.torchlstm4j.spark.Main spark-inference.jar score ...}: PyTorch-trained LSTMs on
 * Spark. Exit codes: 0 success, 1 an error with the data, the model or an option value (the message says which;
 * a corrupt row under {@code --on-error fail} is named), 2 a usage error.
 */
@Command(name = "spark-inference", mixinStandardHelpOptions = true, version = "spark-inference 0.1.0",
        description = "Batch inference of PyTorch-trained LSTM classifiers on Apache Spark.",
        subcommands = {ScoreCommand.class, BenchmarkCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with the program's error handling (for tests: set its out and err). */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            CorruptRowException corrupt = Failures.corruptRow(e);
            if (corrupt != null) {
                cmd.getErr().println("error: " + corrupt.getMessage());
            } else if (e instanceof IllegalArgumentException || e instanceof IOException
                    || e instanceof UncheckedIOException || e instanceof UnsupportedOperationException) {
                cmd.getErr().println("error: " + e.getMessage());
            } else {
                throw e;
            }
            cmd.getErr().flush();
            return 1;
        });
        return cl;
    }
}
