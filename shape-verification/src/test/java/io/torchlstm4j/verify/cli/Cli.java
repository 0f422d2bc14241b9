package io.torchlstm4j.verify.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** Runs the program in-process with stdout and stderr captured. */
final class Cli {

    /** What a run printed and returned. */
    record Result(int exitCode, String out, String err) {
        /** Fails when stderr or stdout holds a Java stack trace. */
        Result withoutStackTrace() {
            for (String text : new String[] {out, err}) {
                assertFalse(text.contains("\tat ") || text.contains("Exception:"), () -> "a stack trace:\n" + text);
            }
            return this;
        }
    }

    private Cli() {
    }

    static Result run(String... args) {
        return run(CommandLine.defaultFactory(), args);
    }

    static Result run(CommandLine.IFactory factory, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = ShapeVerificationCli.commandLine(factory);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
