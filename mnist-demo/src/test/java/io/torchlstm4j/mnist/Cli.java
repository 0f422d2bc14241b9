package io.torchlstm4j.mnist;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the program in-process and keeps what it printed. */
record Cli(int exitCode, String out, String err) {

    static Cli run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
                .execute(Main.withDefaultCommand(args));
        return new Cli(code, out.toString(), err.toString());
    }
}
