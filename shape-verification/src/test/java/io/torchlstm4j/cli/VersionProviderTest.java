package io.torchlstm4j.cli;

import io.torchlstm4j.RuntimeInfo;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VersionProviderTest {

    @Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class)
    static final class Demo implements Runnable {
        @Override
        public void run() {
        }
    }

    @Test
    void versionProviderNamesTheProgramAndListsTheRuntime() {
        StringWriter out = new StringWriter();
        CommandLine commandLine = new CommandLine(new Demo());
        commandLine.setOut(new PrintWriter(out));
        assertEquals(0, commandLine.execute("--version"));
        List<String> lines = out.toString().lines().toList();
        RuntimeInfo info = RuntimeInfo.current();
        // the library's version comes from its jar's manifest where it runs from the jar (unknown from target/classes)
        assertEquals("demo unknown (TorchLSTM4j " + info.version() + ")", lines.get(0));
        assertEquals(info.lines(), lines.subList(1, 5));
        assertTrue(lines.get(5).startsWith("Java " + System.getProperty("java.version")), lines.get(5));
    }
}
