package io.torchlstm4j.engine.fast;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.kernel.LstmKernel;
import io.torchlstm4j.platform.NativePlatform;
import io.torchlstm4j.platform.OpenBlasKernels;
import io.torchlstm4j.platform.OpenMpThreads;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fast engine's BLAS thread policy, in the surefire execution 'two-threads' (OMP_NUM_THREADS=2), checked against
 * OpenBLAS's own {@code openblas_get_num_threads}: nested sections, sections of different counts never overlapping,
 * and a call too big for {@link LstmKernel#SMALL_CALL_FLOPS} (run on both threads) giving the same bits every time;
 * the fast layer's DL4J calls keeping OpenMP on one thread in their thread only.
 */
class TwoThreadsKernelTest {

    @BeforeEach
    void twoThreads() {
        assumeTrue("2".equals(System.getenv("OMP_NUM_THREADS")),
                "runs in the surefire execution 'two-threads' (OMP_NUM_THREADS=2)");
        NativePlatform.initialize();
        assumeTrue(OpenBlasKernels.currentThreads() == 2, "OpenBLAS runs " + OpenBlasKernels.currentThreads()
                + " threads");
    }

    @Test
    void nestedSectionsRunAtTheirCountAndTheConfiguredCountIsBackWhenTheOutermostEnds() {
        String seen;
        try (OpenBlasKernels.Section single = OpenBlasKernels.singleThreaded()) {
            int outer = OpenBlasKernels.openblasThreads();
            String inside;
            try (OpenBlasKernels.Section configured = OpenBlasKernels.configuredThreads()) {
                String inner = "configured " + OpenBlasKernels.openblasThreads();
                try (OpenBlasKernels.Section singleInside = OpenBlasKernels.singleThreaded()) {
                    inside = inner + ", single inside it " + OpenBlasKernels.openblasThreads();
                }
            }
            seen = "single " + outer + ", " + inside + ", single after " + OpenBlasKernels.openblasThreads();
        }
        assertEquals("single 1, configured 2, single inside it 1, single after 1", seen);
        assertEquals(2, OpenBlasKernels.openblasThreads());
        assertEquals(2, OpenBlasKernels.currentThreads());
    }

    @Test
    void aSectionOfTheOtherCountWaitsUntilTheRunningOneHasEnded() throws Exception {
        CountDownLatch singleRunning = new CountDownLatch(1);
        AtomicBoolean singleInside = new AtomicBoolean();
        AtomicReference<String> configuredSaw = new AtomicReference<>();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<Integer> single = pool.submit(() -> {
                try (OpenBlasKernels.Section section = OpenBlasKernels.singleThreaded()) {
                    singleInside.set(true);
                    singleRunning.countDown();
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    int during = OpenBlasKernels.openblasThreads();
                    singleInside.set(false);
                    return during;
                }
            });
            singleRunning.await(1, TimeUnit.MINUTES);
            Future<?> configured = pool.submit(() -> {
                try (OpenBlasKernels.Section section = OpenBlasKernels.configuredThreads()) {
                    configuredSaw.set("single section running: " + singleInside.get() + ", threads "
                            + OpenBlasKernels.openblasThreads());
                }
            });
            assertEquals(1, single.get(1, TimeUnit.MINUTES), "OpenBLAS's count during the single-threaded section");
            configured.get(1, TimeUnit.MINUTES);
        } finally {
            pool.shutdownNow();
        }
        assertEquals("single section running: false, threads 2", configuredSaw.get());
        assertFalse(singleInside.get());
    }

    /**
     * A large call of two streams (largest GEMM above {@link LstmKernel#SMALL_CALL_FLOPS}: a BiLSTM, a 2-layer stack)
     * runs each stream on one BLAS thread, so at two threads it gives exactly what a one-thread process gives: every
     * output, h_n, c_n and gradient, compared by fingerprint with a child JVM at OMP_NUM_THREADS=1.
     */
    @Test
    void largeCallsOfTwoStreamsGiveTheOneThreadBits() throws Exception {
        // the largest GEMMs: layer 1's input projection, 4H x (steps * batch) x (D * H)
        assertTrue(2.0 * 4 * 67 * (60 * 64) * (2 * 67) >= LstmKernel.SMALL_CALL_FLOPS, "the BiLSTM's call is large");
        assertTrue(2.0 * 4 * 67 * (60 * 128) * 67 >= LstmKernel.SMALL_CALL_FLOPS, "the stack's call is large");
        List<String> here = OneThreadBits.fingerprints();
        ProcessBuilder child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), OneThreadBits.class.getName());
        child.environment().put("OMP_NUM_THREADS", "1");
        child.environment().put("OPENBLAS_NUM_THREADS", "1");
        child.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process process = child.start();
        List<String> oneThread;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            oneThread = out.lines().filter(line -> line.startsWith("LSTM")).collect(Collectors.toList());
        }
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the one-thread JVM did not end");
        assertEquals(0, process.exitValue(), "the one-thread JVM failed");
        assertEquals(here, oneThread, "two threads against one thread");
    }

    /**
     * OpenBLAS splits a product among its threads so that some elements are summed in another order than on one
     * thread: for this shape, weight_ih_l0's gradient differed from the one-thread result by 3.4e-5 (of values up
     * to 84.5, about 4 units in the last place). So two threads must give the same bits on every call (what
     * {@link OpenBlasKernels#configuredThreads} guarantees, whatever other threads do), and the one-thread results
     * only within float rounding.
     */
    @Test
    void aCallAboveTheSmallCallThresholdGivesTheSameBitsEveryTimeAndTheOneThreadResultsWithinRounding() {
        int batch = 130;
        int steps = 64;
        LstmConfig config = LstmConfig.builder(64, 64).build();
        assertTrue(2.0 * 4 * 64 * steps * batch * 64 >= LstmKernel.SMALL_CALL_FLOPS, "the call must be a big one");
        FastEngine engine = new FastEngine(config, DataType.FLOAT, 5);
        Random r = new Random(6);
        INDArray input = FastEngineTest.Case.random(r, DataType.FLOAT, steps, batch, 64);
        INDArray outputGradient = FastEngineTest.Case.random(r, DataType.FLOAT, steps, batch, 64);
        LstmOutput both = engine.forward(input, null, null, null, false);
        Map<ParameterKey, INDArray> bothGradients = engine.gradients(input, null, null, null, outputGradient);
        LstmOutput again = engine.forward(input, null, null, null, false);
        Map<ParameterKey, INDArray> againGradients = engine.gradients(input, null, null, null, outputGradient);
        assertArrayEquals(both.output().dup().data().asFloat(), again.output().dup().data().asFloat(), "output");
        bothGradients.forEach((key, g) -> assertArrayEquals(g.dup().data().asFloat(),
                againGradients.get(key).dup().data().asFloat(), key.toString()));
        LstmOutput one;
        Map<ParameterKey, INDArray> oneGradients;
        try (OpenBlasKernels.Section single = OpenBlasKernels.singleThreaded()) {
            one = engine.forward(input, null, null, null, false);
            oneGradients = engine.gradients(input, null, null, null, outputGradient);
        }
        assertWithinRounding(one.output(), both.output(), "output");
        assertWithinRounding(one.cN(), both.cN(), "c_n");
        oneGradients.forEach((key, expected) -> assertWithinRounding(expected, bothGradients.get(key),
                key.toString()));
    }

    /** max |difference| at most 1e-6 of the largest |expected| (a few units in the last place of float32). */
    private static void assertWithinRounding(INDArray expected, INDArray actual, String name) {
        double scale = Math.max(1, expected.amaxNumber().doubleValue());
        FastEngineTest.assertClose(expected, actual, 1e-6 * scale, name);
    }

    @Test
    void theFastLayerKeepsOpenMpOnOneThreadInTheThreadThatRunsItOnly() throws Exception {
        assumeTrue(OpenMpThreads.active(), "OpenMP waits passively here (OMP_WAIT_POLICY or GOMP_SPINCOUNT)");
        TorchLstm lstm = TorchLstm.create(LstmConfig.builder(3, 4).build(), Engine.FAST, DataType.FLOAT, 1);
        INDArray input = Nd4j.rand(DataType.FLOAT, 2, 3, 5);
        // NativeOpsHolder reads a property ND4J's backend sets: look it up after ND4J is initialised
        NativeOps ops = NativeOpsHolder.getInstance().getDeviceNativeOps();
        AtomicReference<String> seen = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            int before = ops.ompGetMaxThreads();
            lstm.network().output(input);
            seen.set(before + " -> " + ops.ompGetMaxThreads());
        });
        caller.start();
        caller.join();
        AtomicReference<Integer> other = new AtomicReference<>();
        Thread bystander = new Thread(() -> other.set(ops.ompGetMaxThreads()));
        bystander.start();
        bystander.join();
        assertEquals("2 -> 1", seen.get());
        assertEquals(2, other.get());
    }
}
