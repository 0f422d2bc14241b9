package io.torchlstm4j.platform;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.io.Safetensors;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The process-wide effects in fresh JVMs (a test JVM has long initialised them): creating an LSTM and reading a
 * file changes nothing, the first forward runs them, and each can be turned off by its system property or by
 * {@link NativePlatform#disable} before that, which throws afterwards.
 */
class NativePlatformTest {

    @Test
    void creatingAndReadingChangeNothingAndTheFirstForwardRunsTheEffects() throws Exception {
        List<String> lines = probe(List.of(), "default");
        assertEquals("before: initialized=false", lines.get(0), String.join("\n", lines));
        assertEquals("after create and read: initialized=false, same OpenBLAS table=true", lines.get(1));
        assertTrue(lines.get(2).startsWith("after forward: initialized=true"), lines.get(2));
    }

    @Test
    void everyEffectTurnedOffBySystemPropertiesLeavesOpenBlasAlone() throws Exception {
        List<String> properties = new ArrayList<>();
        for (NativePlatform.Effect effect : NativePlatform.Effect.values()) {
            properties.add("-D" + effect.property() + "=" + effect.offValue());
        }
        assertAllOff(probe(properties, "default"));
    }

    @Test
    void everyEffectTurnedOffByTheApiBeforeFirstUseAndTheApiRefusesAfterIt() throws Exception {
        List<String> lines = probe(List.of(), "api");
        assertAllOff(lines);
        assertTrue(lines.get(3).startsWith("disable after first use: IllegalStateException: NativePlatform: "
                + "NATIVE_LIBRARY cannot be turned off any more"), lines.get(3));
    }

    private static void assertAllOff(List<String> lines) {
        String all = String.join("\n", lines);
        assertEquals("after forward: initialized=true, nativeGateMath=false, kernelSwitch=false, threadPolicy=false, "
                + "ownResultMemory=false, openMpOneThread=false, kernels=KEPT_BY_USER, same OpenBLAS table=true",
                lines.get(2), all);
    }

    /** Runs {@link Probe} in a fresh JVM with this test's class path; its stdout lines. */
    private static List<String> probe(List<String> properties, String mode) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        command.addAll(properties);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Probe.class.getName());
        command.add(mode);
        Path out = Files.createTempFile("platform-probe", ".txt");
        try {
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertTrue(process.waitFor(5, TimeUnit.MINUTES), "the probe JVM did not end within 5 minutes");
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8).stream()
                    .filter(line -> !line.isBlank() && Character.isLowerCase(line.charAt(0))).toList();
            assertEquals(0, process.exitValue(), String.join("\n", lines));
            return lines;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** The steps, in a fresh JVM: before anything, after creating and reading, after a forward. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            // ND4J and the OpenBLAS copy the engine calls, loaded by the probe (loading them is not the library's doing)
            Nd4j.create(DataType.FLOAT, 1);
            Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
            long table = table();
            System.out.println("before: initialized=" + NativePlatform.status().initialized());
            LstmConfig config = LstmConfig.builder(3, 4).build();
            TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 1);
            Path file = Files.createTempFile("probe", ".safetensors");
            Safetensors.write(file, lstm.stateDict(), java.util.Map.of());
            TorchLstm.fromStateDict(config, Engine.FAST, Safetensors.read(file).tensors());
            Files.delete(file);
            System.out.println("after create and read: initialized=" + NativePlatform.status().initialized()
                    + ", same OpenBLAS table=" + (table == table()));
            if (args[0].equals("api")) {
                for (NativePlatform.Effect effect : NativePlatform.Effect.values()) {
                    NativePlatform.disable(effect);
                }
            }
            lstm.forward(Nd4j.rand(DataType.FLOAT, 5, 2, 3));
            NativePlatform.Status s = NativePlatform.status();
            System.out.println("after forward: initialized=" + s.initialized() + ", nativeGateMath="
                    + s.nativeGateMath() + ", kernelSwitch=" + s.kernelSwitch() + ", threadPolicy=" + s.threadPolicy()
                    + ", ownResultMemory=" + s.ownResultMemory() + ", openMpOneThread=" + s.openMpOneThread()
                    + ", kernels=" + s.openblasKernels()
                    + ", same OpenBLAS table=" + (table == table()));
            if (args[0].equals("api")) {
                try {
                    NativePlatform.disable(NativePlatform.Effect.NATIVE_LIBRARY);
                    System.out.println("disable after first use: accepted");
                } catch (IllegalStateException e) {
                    System.out.println("disable after first use: IllegalStateException: " + e.getMessage());
                }
            }
        }

        private static long table() {
            org.bytedeco.javacpp.Pointer address = Loader.addressof("gotoblas");
            return address == null ? 0 : new LongPointer(OpenBlasKernels.at(address.address())).get(0);
        }
    }
}
