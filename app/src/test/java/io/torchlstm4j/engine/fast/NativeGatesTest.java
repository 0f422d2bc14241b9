package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.core.SequenceLayout;
import io.torchlstm4j.platform.NativeGates;
import io.torchlstm4j.platform.NativeLibrary;
import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.OpenBlasKernels;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native gate math ({@link NativeGates}) against the Java loops it replaces: the same network, run both ways,
 * gives bit-identical outputs, final states and gradients.
 */
class NativeGatesTest {

    static Stream<Arguments> configurations() {
        LstmConfig uni = LstmConfig.builder(5, 37).build();
        LstmConfig stackedBi = LstmConfig.builder(3, 16).numLayers(2).bidirectional(true).build();
        LstmConfig noBias = LstmConfig.builder(2, 9).numLayers(3).bias(false).build();
        // Projected step by step in both paths (LstmKernel.projectsPerStep) at batch 67.
        LstmConfig narrowInput = LstmConfig.builder(40, 32).numLayers(2).build();
        // The MNIST model: at batch 64 and 128 the native recurrent product runs (NativeGates.recurrentFits).
        LstmConfig mnist = LstmConfig.builder(28, 64).numLayers(2).build();
        LstmConfig mnistBi = LstmConfig.builder(28, 64).bidirectional(true).build();
        // Batch sizes (the native rows' lanes): 16 + 3, 3 (only the masked last lanes), 2 x 16, 40 = 2 x 16 + 8;
        // 67 = 64 (one block of four vectors) + 3, 83 = 64 + 16 + 3.
        return Stream.of(
                Arguments.of(mnist, false, false, 64),
                // AVX2 library: batch 16, the smallest its product takes; batch 24, whose OpenBLAS sums follow
                // another order, so that the check keeps OpenBLAS for it (docs/performance.md)
                Arguments.of(mnist, true, false, 16),
                Arguments.of(mnist, false, true, 24),
                Arguments.of(mnist, true, true, 64),
                Arguments.of(mnistBi, true, true, 128),
                Arguments.of(narrowInput, false, true, 67),
                Arguments.of(narrowInput, true, false, 67),
                Arguments.of(uni, true, true, 83),
                Arguments.of(uni, false, false, 19),
                Arguments.of(uni, true, true, 3),
                Arguments.of(stackedBi, false, false, 32),
                Arguments.of(stackedBi, true, true, 19),
                Arguments.of(noBias, true, false, 40),
                Arguments.of(noBias, false, true, 19));
    }

    @Test
    void isUsedOnLinuxWithAvx2OrAvx512AndTurnedOffByTheProperty() throws IOException {
        boolean avx512 = OpenBlasKernels.cpuFlags().containsAll(OpenBlasKernels.AVX512);
        String resource = avx512 ? NativeLibrary.RESOURCE_AVX512 : NativeLibrary.RESOURCE_AVX2;
        assumeTrue(System.getProperty("os.name").startsWith("Linux") && System.getProperty("os.arch").equals("amd64")
                && (avx512 || OpenBlasKernels.cpuFlags().containsAll(NativeLibrary.AVX2))
                && NativeGates.class.getResource(resource) != null,
                "needs Linux x86-64 with AVX2 and FMA or AVX-512, and the library built (gcc)");
        assertTrue(NativeLibrary.nativeGateMath(), NativeLibrary.status());
        assertEquals(avx512 ? "loaded (AVX-512)" : "loaded (AVX2)", NativeLibrary.status());
        LstmConfig config = LstmConfig.builder(2, 3).build();
        assertTrue(engine(config, DataType.FLOAT, true).nativeGateMath());
        assertFalse(engine(config, DataType.FLOAT, false).nativeGateMath());
        assertFalse(engine(config, DataType.DOUBLE, true).nativeGateMath(), "float64 runs in Java");
        assertFalse(engine(LstmConfig.builder(2, 3).projSize(2).build(), DataType.FLOAT, true).nativeGateMath(),
                "projections run in Java");
    }

    @ParameterizedTest(name = "{0} state={1} lengths={2} batch={3}")
    @MethodSource("configurations")
    void nativeAndJavaGateMathAreBitIdentical(LstmConfig config, boolean withState, boolean withLengths, int batch) {
        FastEngine nativeEngine = engine(config, DataType.FLOAT, true);
        FastEngine javaEngine = engine(config, DataType.FLOAT, false);
        assumeTrue(nativeEngine.nativeGateMath(), "native gate math not available: " + NativeLibrary.status());
        assertFalse(javaEngine.nativeGateMath());
        Random r = new Random(9);
        int steps = 7;
        INDArray input = random(r, steps, batch, config.inputSize());
        INDArray h0 = withState ? random(r, config.stateLayers(), batch, config.outputSize()) : null;
        INDArray c0 = withState ? random(r, config.stateLayers(), batch, config.hiddenSize()) : null;
        int[] lengths = null;
        if (withLengths) {
            lengths = new int[batch];
            for (int s = 0; s < batch; s++) {
                lengths[s] = 1 + r.nextInt(steps);
            }
            lengths[batch - 1] = steps;
        }
        INDArray outputGradient = random(r, steps, batch, (long) config.numDirections() * config.outputSize());
        for (boolean training : new boolean[] {false, true}) {
            LstmOutput a = nativeEngine.forward(input, h0, c0, lengths, training);
            LstmOutput b = javaEngine.forward(input, h0, c0, lengths, training);
            assertBits(b.output(), a.output(), "output, training=" + training);
            assertBits(b.hN(), a.hN(), "h_n, training=" + training);
            assertBits(b.cN(), a.cN(), "c_n, training=" + training);
        }
        Map<ParameterKey, INDArray> nativeGradients = nativeEngine.gradients(input, h0, c0, lengths, outputGradient);
        Map<ParameterKey, INDArray> javaGradients = javaEngine.gradients(input, h0, c0, lengths, outputGradient);
        assertEquals(javaGradients.keySet(), nativeGradients.keySet());
        javaGradients.forEach((key, expected) -> assertBits(expected, nativeGradients.get(key), key.toString()));
    }

    @Test
    void oneEngineStaysBitIdenticalAcrossGrowingAndShrinkingBatchesAndLengths() {
        LstmConfig config = LstmConfig.builder(3, 18).numLayers(2).bidirectional(true).build();
        FastEngine nativeEngine = engine(config, DataType.FLOAT, true);
        FastEngine javaEngine = engine(config, DataType.FLOAT, false);
        assumeTrue(nativeEngine.nativeGateMath(), "native gate math not available: " + NativeLibrary.status());
        Random r = new Random(4);
        int[][] shapes = {{5, 4}, {19, 9}, {3, 2}, {19, 9}, {17, 6}};
        for (int[] shape : shapes) {
            int batch = shape[0];
            int steps = shape[1];
            String what = "batch " + batch + ", " + steps + " steps: ";
            INDArray input = random(r, steps, batch, config.inputSize());
            INDArray h0 = random(r, config.stateLayers(), batch, config.outputSize());
            INDArray c0 = random(r, config.stateLayers(), batch, config.hiddenSize());
            int[] lengths = new int[batch];
            for (int s = 0; s < batch; s++) {
                lengths[s] = 1 + r.nextInt(steps);
            }
            lengths[0] = steps;
            LstmOutput a = nativeEngine.forward(input, h0, c0, lengths, false);
            LstmOutput b = javaEngine.forward(input, h0, c0, lengths, false);
            assertBits(b.output(), a.output(), what + "output");
            assertBits(b.hN(), a.hN(), what + "h_n");
            assertBits(b.cN(), a.cN(), what + "c_n");
            INDArray outputGradient = random(r, steps, batch, 2L * config.outputSize());
            Map<ParameterKey, INDArray> nativeGradients = nativeEngine.gradients(input, h0, c0, lengths,
                    outputGradient);
            Map<ParameterKey, INDArray> javaGradients = javaEngine.gradients(input, h0, c0, lengths, outputGradient);
            javaGradients.forEach((key, expected) -> assertBits(expected, nativeGradients.get(key), what + key));
        }
    }

    @Test
    void aBlockOutsideItsBufferIsRefusedBeforeAnyNativeCall() {
        OffHeap buffer = new OffHeap(Nd4j.createUninitialized(DataType.FLOAT, 4, 10));
        assertEquals(buffer.address(0, 4, 10, 10), buffer.address(30, 1, 10, 10) - 30 * 4L);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> buffer.address(31, 1, 10, 10));
        assertTrue(e.getMessage().contains("does not fit a buffer of 40 elements"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> buffer.address(0, 4, 11, 10));
        assertThrows(IllegalStateException.class, () -> buffer.address(-1, 1, 10, 10));
    }

    @Test
    void copyGivesTheElementsOfPermutedAndOffsetViewsInCOrder() {
        assumeTrue(NativeLibrary.nativeGateMath(), "native library not available: " + NativeLibrary.status());
        INDArray base = Nd4j.arange(2 * 5 * 3 * 4).castTo(DataType.FLOAT).reshape(2, 5, 3, 4);
        INDArray offset = base.get(NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all());
        INDArray[] sources = {offset, offset.permute(1, 2, 0), offset.permute(2, 0, 1),
                base.get(NDArrayIndex.point(0), NDArrayIndex.interval(1, 4), NDArrayIndex.all(), NDArrayIndex.interval(1, 3))
                        .permute(2, 0, 1)};
        for (INDArray source : sources) {
            INDArray target = Nd4j.zeros(DataType.FLOAT, source.length() + 3);
            assertTrue(copy(source, new OffHeap(target)), source.shapeInfoToString());
            INDArray expected = source.dup('c').reshape(source.length());
            assertEquals(expected, target.get(NDArrayIndex.interval(0, source.length())), source.shapeInfoToString());
            assertEquals(0f, target.getFloat(source.length()), "nothing written past the elements");
        }
        assertFalse(copy(Nd4j.zeros(DataType.DOUBLE, 2, 3, 4), new OffHeap(Nd4j.zeros(DataType.FLOAT, 24))),
                "float64 is left to ND4J");
        assertThrows(IllegalStateException.class,
                () -> copy(offset, new OffHeap(Nd4j.zeros(DataType.FLOAT, 59))), "a target too small");
    }

    /** {@link NativeGates#copy} of {@code source} read in its own axis order. */
    private static boolean copy(INDArray source, OffHeap dst) {
        long[] shape = source.shape();
        return NativeGates.copy(source, Math.toIntExact(shape[0]), Math.toIntExact(shape[1]),
                Math.toIntExact(shape[2]), source.stride(), dst);
    }

    /**
     * With weaker OpenBLAS kernels in use (the Haswell ones put in its table here, as where the switch is kept),
     * the native recurrent product, which reproduces the SkylakeX kernels' sums, is not used: the native gate math
     * still gives the Java gate math's bits on the MNIST model's shapes.
     */
    @Test
    void withOtherKernelsKeptTheNativeRecurrentProductIsNotUsedAndTheBitsStillAgree() throws IOException {
        assumeTrue(NativeLibrary.nativeGateMath(), "native library not available: " + NativeLibrary.status());
        // Only where the SkylakeX kernels run: elsewhere the product is never used, and OpenBLAS's Haswell table is
        // not initialised in a process that runs other kernels (its block sizes are zero: a GEMM would never end).
        assumeTrue(OpenBlasKernels.avx512KernelsInUse(), "needs OpenBLAS's AVX-512 kernels in use");
        LstmConfig config = LstmConfig.builder(28, 64).numLayers(2).build();
        FastEngine nativeEngine = engine(config, DataType.FLOAT, true);
        FastEngine javaEngine = engine(config, DataType.FLOAT, false);
        Random r = new Random(8);
        INDArray input = random(r, 28, 64, 28);
        org.bytedeco.javacpp.LongPointer table = new org.bytedeco.javacpp.LongPointer(OpenBlasKernels.at(
                org.bytedeco.javacpp.Loader.addressof("gotoblas").address()));
        long original = table.get(0);
        try {
            table.put(0, org.bytedeco.javacpp.Loader.addressof("gotoblas_HASWELL").address());
            assertFalse(OpenBlasKernels.avx512KernelsInUse());
            assertFalse(NativeGates.recurrentFits(256, 64, 64), "the MNIST forward's shape, on Haswell kernels");
            LstmOutput expected = javaEngine.forward(input, null, null, null, false);
            LstmOutput actual = nativeEngine.forward(input, null, null, null, false);
            assertBits(expected.output(), actual.output(), "output on Haswell kernels: ");
            assertBits(expected.cN(), actual.cN(), "c_n on Haswell kernels: ");
        } finally {
            table.put(0, original);
        }
    }

    static Stream<Arguments> resultMemory() {
        return Stream.of(
                // the MNIST model at batch 64: 523 KiB of results, in NativeLibrary.uninitialized's own memory
                Arguments.of(LstmConfig.builder(28, 64).numLayers(2).build(), DataType.FLOAT, 64),
                Arguments.of(LstmConfig.builder(3, 16).numLayers(2).bidirectional(true).build(), DataType.FLOAT, 19),
                Arguments.of(LstmConfig.builder(4, 12).numLayers(2).bidirectional(true).projSize(5).build(),
                        DataType.FLOAT, 7),
                Arguments.of(LstmConfig.builder(6, 40).bidirectional(true).build(), DataType.DOUBLE, 50));
    }

    /**
     * The results' memory is not initialised ({@link NativeGates#uninitialized}): given memory full of NaN, the
     * forward still gives exactly what it gives on fresh memory, so it writes every element of output, h_n and c_n,
     * padded steps included.
     */
    @ParameterizedTest(name = "{0} {1} batch={2}")
    @MethodSource("resultMemory")
    void theForwardWritesEveryElementOfItsResults(LstmConfig config, DataType type, int batch) {
        FastEngine engine = new FastEngine(config, type, 17);
        TorchLstmLayerImpl layer = FastLstm.layer(engine.network(), "", config);
        Random r = new Random(5);
        int steps = 9;
        INDArray input = FastEngineTest.Case.random(r, type, steps, batch, config.inputSize());
        INDArray h0 = FastEngineTest.Case.random(r, type, config.stateLayers(), batch, config.outputSize());
        INDArray c0 = FastEngineTest.Case.random(r, type, config.stateLayers(), batch, config.hiddenSize());
        int[] lengths = new int[batch];
        for (int s = 0; s < batch; s++) {
            lengths[s] = 1 + r.nextInt(steps);
        }
        lengths[0] = steps;
        for (int[] l : new int[][] {null, lengths}) {
            for (boolean training : new boolean[] {false, true}) {
                String what = (l == null ? "full length" : "lengths") + ", training=" + training + ": ";
                LstmOutput expected = engine.forward(input, h0, c0, l, training);
                LstmOutput poisoned;
                try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    poisoned = layer.forward(input, SequenceLayout.SEQUENCE_FIRST, h0, c0, l, training,
                            length -> Nd4j.valueArrayOf(new long[] {length}, Double.NaN, type));
                }
                assertBits(expected.output(), poisoned.output(), what + "output");
                assertBits(expected.hN(), poisoned.hN(), what + "h_n");
                assertBits(expected.cN(), poisoned.cN(), what + "c_n");
                assertFalse(poisoned.output().isNaN().any(), what + "NaN in the output");
            }
        }
    }

    @Test
    void uninitializedArraysAreOrdinaryArraysAndTheirMemoryIsFreedWhenUnreachable() throws InterruptedException {
        assumeTrue(NativeLibrary.nativeGateMath(), "native library not available: " + NativeLibrary.status());
        long length = NativeLibrary.OWN_MEMORY_BYTES / 4 * 16;
        INDArray a = NativeLibrary.uninitialized(DataType.FLOAT, length);
        long aAddress = a.data().addressPointer().address();
        assertTrue(NativeLibrary.isLive(aAddress), "allocated by NativeGates");
        assertEquals(DataType.FLOAT, a.dataType());
        assertArrayEquals(new long[] {length}, a.shape());
        a.assign(Nd4j.arange(length).castTo(DataType.FLOAT));
        INDArray view = a.reshape(16, length / 16).get(NDArrayIndex.point(3), NDArrayIndex.interval(2, 5));
        assertArrayEquals(new float[] {3 * (length / 16) + 2, 3 * (length / 16) + 3, 3 * (length / 16) + 4},
                view.toFloatVector());
        view.addi(1000f);
        assertEquals(3 * (length / 16) + 1003, a.getFloat(3 * (length / 16) + 3), "a view shares the memory");
        INDArray d = NativeLibrary.uninitialized(DataType.DOUBLE, length);
        long dAddress = d.data().addressPointer().address();
        assertTrue(NativeLibrary.isLive(dAddress));
        d.assign(2.5);
        assertEquals(2.5 * length, d.sumNumber().doubleValue());
        INDArray small = NativeLibrary.uninitialized(DataType.FLOAT, 100);
        assertFalse(NativeLibrary.isLive(small.data().addressPointer().address()), "small arrays are ND4J's");
        assertEquals(100, small.length());
        // only the view keeps the first array's memory now
        a = null;
        d = null;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (NativeLibrary.isLive(dAddress) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertFalse(NativeLibrary.isLive(dAddress), "the float64 array's memory was freed");
        assertTrue(NativeLibrary.isLive(aAddress), "the view keeps the first array's memory");
        assertEquals(3 * (length / 16) + 1003, view.getFloat(1), "the view still reads the first array's memory");
        view = null;
        while (NativeLibrary.isLive(aAddress) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertFalse(NativeLibrary.isLive(aAddress), "the first array's memory was freed with its last view");
    }

    /**
     * Results of {@value NativeLibrary#OWN_MEMORY_BYTES} bytes and more are memory JavaCPP counts whether or not the native
     * library is loaded (without it, JavaCPP's malloc), so JavaCPP's limit bounds a loop of calls.
     */
    @Test
    void largeResultsAreCountedByJavaCppWithOrWithoutTheLibrary() {
        long length = NativeLibrary.OWN_MEMORY_BYTES / Float.BYTES * 2;
        long before = Pointer.totalBytes();
        INDArray a = NativeLibrary.uninitialized(DataType.FLOAT, length);
        assertTrue(NativeLibrary.isLive(a.data().addressPointer().address()), "owned memory (" + NativeLibrary.status() + ")");
        assertTrue(Pointer.totalBytes() - before >= length * Float.BYTES, "JavaCPP counts it: totalBytes went from "
                + before + " to " + Pointer.totalBytes());
        a.assign(3f);
        assertEquals(3.0 * length, a.sumNumber().doubleValue());
    }

    /**
     * The result memory's ownership without the native library (memory from JavaCPP's malloc): counted in JavaCPP's
     * totalBytes while the array or a view of it is reachable, freed (and no longer counted) once none is.
     */
    @Test
    void ownedMemoryIsCountedByJavaCppAndFreedWithTheLastViewOfItsArray() throws InterruptedException {
        long length = 1 << 20;
        long bytes = length * Float.BYTES;
        long before = Pointer.totalBytes();
        long address = Pointer.malloc(bytes).address();
        INDArray a = NativeLibrary.onOwnedMemory(DataType.FLOAT, length, address,
                freed -> Pointer.free(OpenBlasKernels.at(freed)));
        assertTrue(NativeLibrary.isLive(address));
        assertTrue(Pointer.totalBytes() - before >= bytes, "JavaCPP counts the " + bytes + " bytes: totalBytes went "
                + "from " + before + " to " + Pointer.totalBytes());
        a.assign(7f);
        INDArray view = a.reshape(1024, 1024).get(NDArrayIndex.point(5), NDArrayIndex.interval(0, 3));
        a = null;
        long deadline = System.nanoTime() + 30_000_000_000L;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(NativeLibrary.isLive(address), "the view keeps the memory");
        assertEquals(21f, view.sumNumber().floatValue());
        view = null;
        while (NativeLibrary.isLive(address) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertFalse(NativeLibrary.isLive(address), "freed once no view is reachable");
    }

    /** An engine with the same seed each time, with the native gate math allowed or turned off. */
    private static FastEngine engine(LstmConfig config, DataType type, boolean allowNative) {
        String previous = System.getProperty(NativeLibrary.PROPERTY);
        System.setProperty(NativeLibrary.PROPERTY, allowNative ? "auto" : "off");
        try {
            FastEngine engine = new FastEngine(config, type, 17);
            engine.nativeGateMath();
            return engine;
        } finally {
            if (previous == null) {
                System.clearProperty(NativeLibrary.PROPERTY);
            } else {
                System.setProperty(NativeLibrary.PROPERTY, previous);
            }
        }
    }

    private static INDArray random(Random r, long... shape) {
        return FastEngineTest.Case.random(r, DataType.FLOAT, shape);
    }

    /** Same shape and bit-identical elements (float32 or float64: a float widens to a double exactly). */
    private static void assertBits(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        assertArrayEquals(expected.dup('c').data().asDouble(), actual.dup('c').data().asDouble(), what);
    }
}
