package io.torchlstm4j.verify.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Checks of option values that picocli's types do not express. */
final class Options {

    private Options() {
    }

    /** A tolerance option: absent, or a finite number &gt;= 0; otherwise a usage error that names the option. */
    static void checkTolerance(CommandSpec spec, String option, Double value) {
        if (value != null && !(value >= 0 && value < Double.POSITIVE_INFINITY)) {
            throw new ParameterException(spec.commandLine(), option + " must be a finite number >= 0, got " + value);
        }
    }
}
