package io.torchlstm4j.kernel;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.platform.NativePlatform;
import io.torchlstm4j.platform.OpenBlasKernels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fast kernel's schedules give the same bits: every output, h_n, c_n and parameter gradient of a call with the
 * streams at once (directions of a bidirectional layer, the layers of a unidirectional stack as a wavefront) equals
 * the same call with the streams one after the other ({@code -Dtorchlstm4j.schedule=sequential}), in float32 and
 * float64, with and without lengths, state, projections and dropout, 1 to 3 layers, batch 1 to 64; and calls above
 * {@link LstmKernel#SMALL_CALL_FLOPS} give the bits of the sequential schedule too. Runs in the default surefire
 * execution (OMP_NUM_THREADS=1: one thread, so no stream runs on a pool thread) and in 'two-threads'
 * (OMP_NUM_THREADS=2: the streams of small calls, and of large calls with two streams or more, at once on one BLAS
 * thread each; a large call of one stream keeps its GEMMs on both threads).
 */
class ScheduleTest {

    @AfterEach
    void defaultSchedule() {
        System.clearProperty(LstmKernel.SCHEDULE_PROPERTY);
    }

    @Test
    void concurrentStreamsGiveTheBitsOfTheSequentialSchedule() {
        NativePlatform.initialize();
        List<LstmConfig> configs = List.of(
                LstmConfig.builder(5, 8).build(),
                LstmConfig.builder(5, 8).numLayers(2).build(),
                LstmConfig.builder(6, 12).numLayers(3).build(),
                LstmConfig.builder(4, 9).bidirectional(true).build(),
                LstmConfig.builder(7, 10).numLayers(2).bidirectional(true).build(),
                LstmConfig.builder(6, 12).numLayers(2).projSize(5).build(),
                LstmConfig.builder(6, 12).numLayers(2).bidirectional(true).projSize(5).build(),
                LstmConfig.builder(6, 16).numLayers(3).dropout(0.3).build(),
                LstmConfig.builder(5, 9).numLayers(2).bidirectional(true).dropout(0.5).build(),
                LstmConfig.builder(28, 64).numLayers(2).build(),
                LstmConfig.builder(28, 64).numLayers(2).batchFirst(true).bias(false).build(),
                LstmConfig.builder(70, 40).numLayers(2).build());
        int[][] shapes = {{1, 1}, {1, 9}, {3, 5}, {7, 13}, {64, 28}, {33, 6}};
        int[] counts = new int[2];
        long seed = 1;
        for (LstmConfig config : configs) {
            seed = compareSchedules(config, shapes, seed, counts);
        }
        int calls = counts[0];
        int compared = counts[1];
        System.out.printf("ScheduleTest: %d calls, %d arrays bit-identical between the schedules (BLAS threads %d)%n",
                calls, compared, OpenBlasKernels.configuredThreadCount());
        boolean pool = Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().startsWith("torchlstm4j-stream-"));
        assertEquals(OpenBlasKernels.threadPolicyActive(), pool,
                "stream worker threads exist exactly when the BLAS has more than one thread");
    }

    /**
     * A wavefront's blocks taken over by another stream give the bits of the stream that owns them doing them itself:
     * the upper layer's input projections, taken over by the stream below ({@code LstmKernel.projectAhead}), and in
     * backward a layer's dL/dh, the input gradient of the layer above, taken over by the stream above
     * ({@code LstmKernel.takeOverInputGradients}). Forced in the sequential schedule, where it is deterministic (the
     * stream that takes over runs first and does every block): forward and gradients, float32 and float64, with and
     * without lengths and state, two and three layers, with dropout.
     */
    @Test
    void blocksTakenOverByAnotherStreamGiveTheSameBits() {
        NativePlatform.initialize();
        List<LstmConfig> configs = List.of(
                LstmConfig.builder(28, 64).numLayers(2).build(),
                LstmConfig.builder(6, 16).numLayers(3).dropout(0.3).build(),
                LstmConfig.builder(70, 40).numLayers(2).batchFirst(true).build());
        int[][] shapes = {{64, 28}, {7, 13}, {33, 6}};
        long takenOver = LstmKernel.PROJECTED_AHEAD.get();
        long gradientsTakenOver = LstmKernel.GRADIENTS_TAKEN_OVER.get();
        int[] counts = new int[2];
        long seed = 51;
        for (LstmConfig config : configs) {
            seed = compare(config, shapes, seed, counts, "differs when the stream below projects the upper layer's input",
                    (lstm, call) -> results(lstm, call, "sequential"), (lstm, call) -> {
                        LstmKernel.takeOverOnOneThread = true;
                        try {
                            return results(lstm, call, "sequential");
                        } finally {
                            LstmKernel.takeOverOnOneThread = false;
                        }
                    });
        }
        int compared = counts[1];
        takenOver = LstmKernel.PROJECTED_AHEAD.get() - takenOver;
        gradientsTakenOver = LstmKernel.GRADIENTS_TAKEN_OVER.get() - gradientsTakenOver;
        System.out.printf("ScheduleTest: %d arrays bit-identical with %d blocks projected by the stream below and %d "
                + "input-gradient blocks computed by the stream above%n", compared, takenOver, gradientsTakenOver);
        assertTrue(takenOver > 0, "the stream below projected no block of the layer above");
        assertTrue(gradientsTakenOver > 0, "the stream above computed no block of the input gradient below it");
    }

    /**
     * Calls whose largest GEMM reaches {@link LstmKernel#SMALL_CALL_FLOPS} give the sequential schedule's bits too:
     * with two BLAS threads, those of two streams or more run every GEMM on one BLAS thread in both schedules (the
     * streams at once, or one after the other), and a call of one stream keeps its GEMMs on both threads in both.
     * Forward and gradients, float32 and float64, with and without lengths and state, a BiLSTM with and without
     * projections, a unidirectional stack with dropout, a single layer.
     */
    @Test
    void largeCallsGiveTheBitsOfTheSequentialSchedule() {
        NativePlatform.initialize();
        Map<LstmConfig, int[]> large = new java.util.LinkedHashMap<>();
        large.put(LstmConfig.builder(48, 67).numLayers(2).bidirectional(true).build(), new int[] {64, 60});
        large.put(LstmConfig.builder(40, 67).numLayers(2).bidirectional(true).projSize(30).build(), new int[] {120, 70});
        large.put(LstmConfig.builder(64, 67).numLayers(2).dropout(0.3).build(), new int[] {128, 60});
        large.put(LstmConfig.builder(64, 67).build(), new int[] {128, 60});
        int[] counts = new int[2];
        long seed = 101;
        for (Map.Entry<LstmConfig, int[]> e : large.entrySet()) {
            int[] shape = e.getValue();
            assertTrue(LstmKernel.largestGemmFlops(e.getKey(), (long) shape[0] * shape[1]) >= LstmKernel.SMALL_CALL_FLOPS,
                    e.getKey() + " batch " + shape[0] + " steps " + shape[1] + " must be a large call");
            seed = compareSchedules(e.getKey(), new int[][] {shape}, seed, counts);
        }
        System.out.printf("ScheduleTest: %d large calls, %d arrays bit-identical between the schedules (BLAS threads %d)%n",
                counts[0], counts[1], OpenBlasKernels.configuredThreadCount());
    }

    /**
     * Compares the schedules for {@code config} in float32 and float64 on each (batch, steps) of {@code shapes}, without
     * and with lengths and state; adds the calls and the arrays compared to {@code counts}; returns the next seed.
     */
    private static long compareSchedules(LstmConfig config, int[][] shapes, long seed, int[] counts) {
        return compare(config, shapes, seed, counts, "differs between the schedules",
                (lstm, call) -> results(lstm, call, "sequential"), (lstm, call) -> results(lstm, call, "auto"));
    }

    /**
     * Runs {@code config} in float32 and float64 on each (batch, steps) of {@code shapes}, without and with lengths and
     * state, the {@code expected} way and the {@code actual} way, and asserts the same bits ({@code difference} says
     * what a failure means); adds the calls and the arrays compared to {@code counts}; returns the next seed.
     */
    private static long compare(LstmConfig config, int[][] shapes, long seed, int[] counts, String difference,
                                BiFunction<TorchLstm, Call, List<float[]>> expected,
                                BiFunction<TorchLstm, Call, List<float[]>> actual) {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            TorchLstm lstm = TorchLstm.create(config, Engine.FAST, type, seed);
            if (config.dropout() > 0) {
                lstm.train();
            } else {
                lstm.eval();
            }
            for (int[] shape : shapes) {
                for (int variant = 0; variant < 2; variant++) {
                    Random random = new Random(seed++);
                    Call call = call(config, type, shape[0], shape[1], variant == 1, random);
                    List<float[]> wanted = expected.apply(lstm, call);
                    List<float[]> got = actual.apply(lstm, call);
                    assertEquals(wanted.size(), got.size());
                    for (int i = 0; i < wanted.size(); i++) {
                        assertTrue(Arrays.equals(wanted.get(i), got.get(i)), config + " " + type
                                + " batch " + shape[0] + " steps " + shape[1] + " variant " + variant
                                + ": result " + i + " " + difference);
                        counts[1]++;
                    }
                    counts[0]++;
                }
            }
        }
        return seed;
    }

    private record Call(INDArray input, LstmState state, int[] lengths, INDArray outputGradient) {
    }

    private static Call call(LstmConfig config, DataType type, int batch, int steps, boolean variant, Random random) {
        long[] inputShape = config.batchFirst() ? new long[] {batch, steps, config.inputSize()}
                : new long[] {steps, batch, config.inputSize()};
        long[] outputShape = config.batchFirst() ? new long[] {batch, steps, (long) config.numDirections() * config.outputSize()}
                : new long[] {steps, batch, (long) config.numDirections() * config.outputSize()};
        LstmState state = variant ? new LstmState(random(random, type, config.stateLayers(), batch,
                config.outputSize()), random(random, type, config.stateLayers(), batch, config.hiddenSize())) : null;
        int[] lengths = null;
        if (variant) {
            lengths = new int[batch];
            for (int s = 0; s < batch; s++) {
                lengths[s] = 1 + random.nextInt(steps);
            }
        }
        return new Call(random(random, type, inputShape), state, lengths, random(random, type, outputShape));
    }

    /** Output, h_n, c_n and every gradient of one forward and one gradients call, ND4J's generator reseeded first. */
    private static List<float[]> results(TorchLstm lstm, Call call, String schedule) {
        System.setProperty(LstmKernel.SCHEDULE_PROPERTY, schedule);
        List<float[]> results = new ArrayList<>();
        Nd4j.getRandom().setSeed(11);
        LstmOutput out = lstm.forward(call.input(), call.state(), call.lengths());
        results.add(bits(out.output()));
        results.add(bits(out.hN()));
        results.add(bits(out.cN()));
        Nd4j.getRandom().setSeed(12);
        for (Map.Entry<String, INDArray> g : lstm.gradients(call.input(), call.state(), call.lengths(),
                call.outputGradient()).entrySet()) {
            results.add(bits(g.getValue()));
        }
        return results;
    }

    /** Every element's bits (a double's as two floats' worth of bits, so float64 is compared exactly too). */
    private static float[] bits(INDArray array) {
        INDArray dense = array.dup('c');
        if (dense.dataType() == DataType.DOUBLE) {
            double[] values = dense.data().asDouble();
            float[] out = new float[values.length * 2];
            for (int i = 0; i < values.length; i++) {
                long raw = Double.doubleToRawLongBits(values[i]);
                out[2 * i] = Float.intBitsToFloat((int) (raw >>> 32));
                out[2 * i + 1] = Float.intBitsToFloat((int) raw);
            }
            return out;
        }
        return dense.data().asFloat();
    }

    private static INDArray random(Random random, DataType type, long... shape) {
        long length = 1;
        for (long s : shape) {
            length *= s;
        }
        double[] values = new double[Math.toIntExact(length)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian();
        }
        return Nd4j.create(values, shape, DataType.DOUBLE).castTo(type);
    }
}
