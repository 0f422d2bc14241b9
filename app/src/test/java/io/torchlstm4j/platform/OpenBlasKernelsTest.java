package io.torchlstm4j.platform;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On an AVX-512 CPU the fast engine's OpenBLAS ends up on its AVX-512 kernels, whatever OpenBLAS 0.3.19 detected or
 * the environment asked for, and the C environment is left as it was.
 */
class OpenBlasKernelsTest {

    @Test
    void avx512CpusRunTheAvx512KernelsAndTheEnvironmentIsRestored() throws IOException {
        Assumptions.assumeTrue(System.getProperty("os.name", "").startsWith("Linux")
                && System.getProperty("os.arch", "").equals("amd64"), "Linux x86-64 only");
        Nd4j.create(DataType.FLOAT, 1);
        NativePlatform.initialize();
        String status = OpenBlasKernels.status();
        long table = new LongPointer(OpenBlasKernels.at(Loader.addressof("gotoblas").address())).get(0);
        long skylakeX = Loader.addressof("gotoblas_SKYLAKEX").address();
        long cooperlake = Loader.addressof("gotoblas_COOPERLAKE").address();
        if (OpenBlasKernels.cpuFlags().containsAll(OpenBlasKernels.AVX512)) {
            assertTrue(table == skylakeX || table == cooperlake,
                    "expected OpenBLAS's SkylakeX or Cooperlake kernels on this AVX-512 CPU; status: " + status);
            assertTrue(status.startsWith("SWITCHED") || status.startsWith("ALREADY_BEST"), status);
        } else {
            assertTrue(table != skylakeX, "AVX-512 kernels on a CPU without AVX-512; status: " + status);
        }
        assertEquals(System.getenv("OPENBLAS_CORETYPE"), cEnvironment("OPENBLAS_CORETYPE"),
                "the C environment's OPENBLAS_CORETYPE differs from the one the JVM started with");
    }

    @Test
    void keptKernelsAreLeftAlone() {
        linuxX86();
        long before = table();
        OpenBlasKernels.Decision decision = OpenBlasKernels.decideAndSwitch(false, () -> true);
        assertEquals(OpenBlasKernels.Outcome.KEPT_BY_USER, decision.outcome());
        assertEquals(before, table());
    }

    @Test
    void elsewhereTheSwitchIsNotApplicableAndChangesNothing() {
        linuxX86();
        long before = table();
        String os = System.getProperty("os.name");
        System.setProperty("os.name", "Mac OS X");
        try {
            assertEquals(OpenBlasKernels.Outcome.NOT_APPLICABLE,
                    OpenBlasKernels.decideAndSwitch(true, () -> true).outcome());
        } finally {
            System.setProperty("os.name", os);
        }
        assertEquals(before, table());
    }

    /**
     * From weaker kernels (SandyBridge's, put in OpenBLAS's table here) the switch goes to the best this CPU
     * supports, with the C environment restored; when the check after the switch fails, the weaker kernels are
     * restored. The table is put back as it was at the end.
     */
    @Test
    void fromWeakerKernelsTheSwitchReachesTheBestOnesOrRestoresThePreviousWhenItsCheckFails() throws IOException {
        linuxX86();
        NativePlatform.initialize();
        boolean avx512 = OpenBlasKernels.cpuFlags().containsAll(OpenBlasKernels.AVX512);
        Assumptions.assumeTrue(avx512 || OpenBlasKernels.cpuFlags().containsAll(java.util.Set.of("avx2", "fma")),
                "needs AVX2 or AVX-512 (a better class than SandyBridge's kernels)");
        long original = table();
        long weaker = Loader.addressof("gotoblas_SANDYBRIDGE").address();
        long best = Loader.addressof(avx512 ? "gotoblas_SKYLAKEX" : "gotoblas_HASWELL").address();
        LongPointer table = new LongPointer(OpenBlasKernels.at(Loader.addressof("gotoblas").address()));
        try {
            table.put(0, weaker);
            OpenBlasKernels.Decision failed = OpenBlasKernels.decideAndSwitch(true, () -> false);
            assertEquals(OpenBlasKernels.Outcome.FAILED, failed.outcome(), failed.detail());
            assertEquals(weaker, table(), "the previous kernels are restored: " + failed.detail());
            assertTrue(failed.detail().contains("failed its check"), failed.detail());
            OpenBlasKernels.Decision switched = OpenBlasKernels.decideAndSwitch(true, () -> true);
            assertEquals(OpenBlasKernels.Outcome.SWITCHED, switched.outcome(), switched.detail());
            assertEquals(best, table(), switched.detail());
            assertEquals(System.getenv("OPENBLAS_CORETYPE"), cEnvironment("OPENBLAS_CORETYPE"));
            assertEquals(avx512, OpenBlasKernels.avx512KernelsInUse());
        } finally {
            table.put(0, original);
        }
        assertEquals(original, table());
    }

    private static void linuxX86() {
        Assumptions.assumeTrue(System.getProperty("os.name", "").startsWith("Linux")
                && System.getProperty("os.arch", "").equals("amd64"), "Linux x86-64 only");
        Nd4j.create(DataType.FLOAT, 1);
    }

    /** OpenBLAS's current core table (the address in its gotoblas pointer). */
    private static long table() {
        return new LongPointer(OpenBlasKernels.at(Loader.addressof("gotoblas").address())).get(0);
    }

    /** getenv over glibc's environ array (the first match, as getenv does), or null. */
    private static String cEnvironment(String name) {
        long environ = new LongPointer(OpenBlasKernels.at(Loader.addressof("environ").address())).get(0);
        LongPointer entries = new LongPointer(OpenBlasKernels.at(environ));
        for (int i = 0; entries.get(i) != 0; i++) {
            String entry = new BytePointer(OpenBlasKernels.at(entries.get(i))).getString();
            if (entry.startsWith(name + "=")) {
                return entry.substring(name.length() + 1);
            }
        }
        return null;
    }
}
