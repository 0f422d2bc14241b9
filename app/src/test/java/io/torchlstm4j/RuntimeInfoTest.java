package io.torchlstm4j;

import io.torchlstm4j.cli.VersionProvider;
import io.torchlstm4j.fast.NativeGates;
import io.torchlstm4j.fast.OpenBlasKernels;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimeInfoTest {

    @Test
    void reportsTheCpuBackendOpenBlasAndWhatTheFastEngineUses() {
        RuntimeInfo info = RuntimeInfo.current();
        assertEquals("org.nd4j.linalg.cpu.nativecpu.CpuBackend", info.backend());
        assertTrue(info.blas().startsWith("OpenBLAS 0.3."), info.blas());
        assertEquals(NativeGates.enabled(), info.nativeGateMath());
        assertEquals(NativeGates.status(), info.nativeGateStatus());
        assertEquals(OpenBlasKernels.status(), info.kernelStatus());
        assertEquals(info.kernelStatus().startsWith("SWITCHED"), info.kernelSwitch());
        assertEquals("unknown", info.version(), "the tests run from target/classes, which has no manifest");
    }

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
        assertEquals("demo unknown (TorchLSTM4j unknown)", lines.get(0));
        assertEquals(info.lines(), lines.subList(1, 5));
        assertTrue(lines.get(5).startsWith("Java " + System.getProperty("java.version")), lines.get(5));
    }
}
