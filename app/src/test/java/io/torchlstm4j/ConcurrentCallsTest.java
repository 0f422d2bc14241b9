package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Many threads calling the FAST engine at once, on one shared {@link TorchLstm} (eval mode) and on one instance per
 * thread: every output, h_n, c_n and gradient must be bit-identical to the same call made alone. Models:
 * unidirectional and bidirectional, stacked, batch-first, float32 and float64 (with and without the native gate
 * math's shapes), calls with varying batch sizes, lengths, states and per-sample lengths, and one call large enough
 * to use every BLAS thread. Runs in the surefire executions 'one-thread' and 'two-threads' (OMP_NUM_THREADS 1 and 2).
 */
class ConcurrentCallsTest {

    private static final int CALLS_PER_THREAD = 16;

    /** One call and what it gave when made alone. */
    private record Request(INDArray input, LstmState state, int[] lengths, INDArray outputGradient,
                           List<double[]> alone) {
    }

    private record Model(String name, TorchLstm lstm, List<Request> requests) {
    }

    @ParameterizedTest(name = "{0} threads")
    @ValueSource(ints = {2, 4, 8})
    void everyConcurrentResultIsBitIdenticalToTheSameCallMadeAlone(int threads) throws Exception {
        List<Model> models = models();
        int calls = 0;
        int identical = 0;
        for (Model model : models) {
            for (boolean shared : new boolean[] {true, false}) {
                List<TorchLstm> instances = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    instances.add(shared ? model.lstm()
                            : TorchLstm.fromStateDict(model.lstm().config(), Engine.FAST, model.lstm().stateDict()));
                }
                int[] counts = runConcurrently(threads, t -> instances.get(t), model);
                calls += counts[0];
                identical += counts[1];
                assertEquals(counts[0], counts[1], model.name() + (shared ? " shared" : " one per thread") + ", "
                        + threads + " threads: " + (counts[0] - counts[1]) + " of " + counts[0]
                        + " results differ from the same call made alone");
            }
        }
        System.err.printf("ConcurrentCallsTest (OMP_NUM_THREADS=%s): %d threads, %d models x shared/own: "
                        + "%d of %d results bit-identical to the call made alone%n", System.getenv("OMP_NUM_THREADS"),
                threads, models.size(), identical, calls);
        assertEquals(calls, identical);
    }

    /** Returns {results compared, results bit-identical}; a call that throws fails the test. */
    private static int[] runConcurrently(int threads, IntFunction<TorchLstm> instance, Model model) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger compared = new AtomicInteger();
        AtomicInteger same = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    List<Request> order = new ArrayList<>(model.requests());
                    Random random = new Random(thread);
                    start.await();
                    for (int call = 0; call < CALLS_PER_THREAD; call++) {
                        if (call % order.size() == 0) {
                            Collections.shuffle(order, random);
                        }
                        Request r = order.get(call % order.size());
                        List<double[]> got = run(instance.apply(thread), r, call % 5 == 4);
                        List<double[]> expected = r.outputGradient() != null && call % 5 == 4
                                ? r.alone().subList(3, r.alone().size()) : r.alone().subList(0, 3);
                        compared.incrementAndGet();
                        if (sameBits(expected, got)) {
                            same.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(10, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        return new int[] {compared.get(), same.get()};
    }

    /** Forward (output, h_n, c_n) or, when asked and the request has an output gradient, every gradient. */
    private static List<double[]> run(TorchLstm lstm, Request r, boolean gradients) {
        if (gradients && r.outputGradient() != null) {
            List<double[]> result = new ArrayList<>();
            lstm.gradients(r.input(), r.state(), r.lengths(), r.outputGradient()).values()
                    .forEach(g -> result.add(bits(g)));
            return result;
        }
        LstmOutput out = lstm.forward(r.input(), r.state(), r.lengths());
        return List.of(bits(out.output()), bits(out.hN()), bits(out.cN()));
    }

    private static List<Model> models() {
        List<Model> models = new ArrayList<>();
        models.add(model("uni f32", LstmConfig.builder(5, 8).build(), DataType.FLOAT, 1));
        models.add(model("bi 2 layers batchFirst f32", LstmConfig.builder(5, 8).numLayers(2).bidirectional(true)
                .batchFirst(true).build(), DataType.FLOAT, 2));
        models.add(model("uni 2 layers f64", LstmConfig.builder(6, 7).numLayers(2).build(), DataType.DOUBLE, 3));
        models.add(model("bi f64", LstmConfig.builder(4, 9).bidirectional(true).build(), DataType.DOUBLE, 4));
        models.add(model("MNIST-size f32", LstmConfig.builder(28, 64).numLayers(2).build(), DataType.FLOAT, 5));
        return models;
    }

    /**
     * A model in eval mode with its requests: batch sizes and lengths varying from call to call, with and without
     * state and per-sample lengths, each with what it gives alone. The MNIST-size model's requests include batch 64
     * (the native recurrent product's shape) and one call whose products are large enough for every BLAS thread.
     */
    private static Model model(String name, LstmConfig config, DataType type, long seed) {
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, type, seed).eval();
        Random random = new Random(seed);
        boolean mnist = config.inputSize() == 28;
        int[][] shapes = mnist ? new int[][] {{64, 28}, {3, 28}, {64, 7}, {130, 64}}
                : new int[][] {{1, 1}, {3, 5}, {7, 2}, {2, 11}, {5, 3}, {1, 9}};
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < shapes.length; i++) {
            int batch = shapes[i][0];
            int steps = shapes[i][1];
            boolean withState = i % 2 == 1;
            boolean withLengths = i % 3 == 2;
            INDArray input = random(random, type, config.batchFirst() ? new long[] {batch, steps, config.inputSize()}
                    : new long[] {steps, batch, config.inputSize()});
            LstmState state = withState ? new LstmState(
                    random(random, type, config.stateLayers(), batch, config.outputSize()),
                    random(random, type, config.stateLayers(), batch, config.hiddenSize())) : null;
            int[] lengths = null;
            if (withLengths) {
                lengths = new int[batch];
                for (int s = 0; s < batch; s++) {
                    lengths[s] = 1 + random.nextInt(steps);
                }
            }
            LstmOutput out = lstm.forward(input, state, lengths);
            List<double[]> alone = new ArrayList<>(List.of(bits(out.output()), bits(out.hN()), bits(out.cN())));
            INDArray outputGradient = null;
            if (batch * steps < 2000) {
                outputGradient = random(random, type, out.output().shape());
                for (INDArray g : lstm.gradients(input, state, lengths, outputGradient).values()) {
                    alone.add(bits(g));
                }
            }
            requests.add(new Request(input, state, lengths, outputGradient, alone));
        }
        return new Model(name, lstm, requests);
    }

    @Test
    void loadingAStateDictWhileCallsRunGivesEachCallAllOldOrAllNewParameters() throws Exception {
        LstmConfig config = LstmConfig.builder(5, 8).numLayers(2).build();
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 1).eval();
        Map<String, INDArray> first = lstm.stateDict();
        Map<String, INDArray> second = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 2).stateDict();
        INDArray input = random(new Random(3), DataType.FLOAT, 9, 4, 5);
        double[] withFirst = bits(lstm.forward(input).output());
        lstm.loadStateDict(second);
        double[] withSecond = bits(lstm.forward(input).output());
        assertTrue(!Arrays.equals(withFirst, withSecond), "the two state_dicts must give different outputs");
        ExecutorService pool = Executors.newFixedThreadPool(3);
        AtomicInteger other = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 150; i++) {
                        double[] got = bits(lstm.forward(input).output());
                        calls.incrementAndGet();
                        if (!Arrays.equals(got, withFirst) && !Arrays.equals(got, withSecond)) {
                            other.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            futures.add(pool.submit(() -> {
                for (int i = 0; i < 60; i++) {
                    lstm.loadStateDict(i % 2 == 0 ? first : second);
                }
                return null;
            }));
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, other.get(), other.get() + " of " + calls.get()
                + " outputs were neither the first nor the second state_dict's");
    }

    static INDArray random(Random random, DataType type, long... shape) {
        double[] values = new double[Math.toIntExact(Arrays.stream(shape).reduce(1, (a, b) -> a * b))];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian();
        }
        return Nd4j.createFromArray(values).castTo(type).reshape(shape);
    }

    /** The elements in c order as doubles (a float32 value widens exactly, so comparing these compares bits). */
    static double[] bits(INDArray array) {
        return array.dup('c').castTo(DataType.DOUBLE).data().asDouble();
    }

    private static boolean sameBits(List<double[]> expected, List<double[]> actual) {
        if (expected.size() != actual.size()) {
            return false;
        }
        for (int i = 0; i < expected.size(); i++) {
            if (!Arrays.equals(expected.get(i), actual.get(i))) {
                return false;
            }
        }
        return true;
    }
}
