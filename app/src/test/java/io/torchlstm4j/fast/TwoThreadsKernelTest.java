package io.torchlstm4j.fast;

import io.torchlstm4j.Engine;
import io.torchlstm4j.LstmConfig;
import io.torchlstm4j.LstmOutput;
import io.torchlstm4j.TorchLstm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOps;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fast engine's BLAS thread switching, in the surefire execution 'two-threads' (OMP_NUM_THREADS=2): nested
 * single-threaded sections, and a call too big for {@link LstmKernel#SMALL_CALL_FLOPS} (run on both threads) giving
 * what the same call on one thread gives; the fast layer's DL4J calls keeping OpenMP on one thread in their thread.
 */
class TwoThreadsKernelTest {

    @BeforeEach
    void twoThreads() {
        assumeTrue("2".equals(System.getenv("OMP_NUM_THREADS")),
                "runs in the surefire execution 'two-threads' (OMP_NUM_THREADS=2)");
        Precision.of(DataType.FLOAT);
        assumeTrue(OpenBlasKernels.currentThreads() == 2, "OpenBLAS runs " + OpenBlasKernels.currentThreads()
                + " threads");
    }

    @Test
    void nestedSingleThreadedSectionsRestoreTheCountWhenTheOutermostEnds() {
        AtomicReference<String> seen = new AtomicReference<>("");
        OpenBlasKernels.singleThreaded(() -> {
            int outer = OpenBlasKernels.currentThreads();
            OpenBlasKernels.singleThreaded(() -> seen.set(seen.get() + "inner " + OpenBlasKernels.currentThreads()));
            seen.set("outer " + outer + ", " + seen.get() + ", after inner " + OpenBlasKernels.currentThreads());
        });
        assertEquals("outer 1, inner 1, after inner 1", seen.get());
        assertEquals(2, OpenBlasKernels.currentThreads());
    }

    @Test
    void aCallAboveTheSmallCallThresholdUsesBothThreadsAndGivesTheOneThreadResults() {
        int batch = 130;
        int steps = 64;
        LstmConfig config = LstmConfig.builder(64, 64).build();
        assertTrue(2.0 * 4 * 64 * steps * batch * 64 >= LstmKernel.SMALL_CALL_FLOPS, "the call must be a big one");
        FastEngine engine = new FastEngine(config, DataType.FLOAT, 5);
        Random r = new Random(6);
        INDArray input = FastEngineTest.Case.random(r, DataType.FLOAT, steps, batch, 64);
        INDArray outputGradient = FastEngineTest.Case.random(r, DataType.FLOAT, steps, batch, 64);
        LstmOutput both = engine.forward(input, null, null, null, false);
        Map<String, INDArray> bothGradients = engine.gradients(input, null, null, null, outputGradient);
        AtomicReference<LstmOutput> one = new AtomicReference<>();
        AtomicReference<Map<String, INDArray>> oneGradients = new AtomicReference<>();
        OpenBlasKernels.singleThreaded(() -> {
            one.set(engine.forward(input, null, null, null, false));
            oneGradients.set(engine.gradients(input, null, null, null, outputGradient));
        });
        FastEngineTest.assertClose(one.get().output(), both.output(), 1e-6, "output");
        FastEngineTest.assertClose(one.get().cN(), both.cN(), 1e-6, "c_n");
        oneGradients.get().forEach((name, expected) ->
                FastEngineTest.assertClose(expected, bothGradients.get(name), 1e-5, name));
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
