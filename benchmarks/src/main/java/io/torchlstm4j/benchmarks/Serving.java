package io.torchlstm4j.benchmarks;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * How the FAST engine serves: inference throughput of one shared instance against one instance per calling
 * thread, the latency of one-step streaming calls with the state carried, and resident memory over a long run of
 * forwards and of gradients. Our engine only (the other frameworks' workers have no such modes); every case uses the
 * MNIST model's LSTM, {@code LSTM(28, 64, num_layers=2)}, float32, eval mode. Tables on stdout (Markdown), progress
 * on stderr. Run it with {@code benchmarks/serving.sh} (see there); the thread settings come from the environment
 * (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS).
 */
@Command(name = "serving", mixinStandardHelpOptions = true, subcommands = {Serving.Throughput.class,
        Serving.Streaming.class, Serving.LongRun.class},
        description = "Serving benchmarks of the FAST engine: throughput, streaming latency, long-run memory.")
public final class Serving {

    static final LstmConfig MNIST = LstmConfig.builder(28, 64).numLayers(2).build();
    static final int STEPS = 28;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Serving()).execute(args));
    }

    static TorchLstm model(long seed) {
        return TorchLstm.create(MNIST, Engine.FAST, DataType.FLOAT, seed).eval();
    }

    static INDArray input(long seed, int steps, int batch) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, steps, batch, MNIST.inputSize());
    }

    @Command(name = "throughput", description = "Forwards per second (MNIST size: batch 64, 28 steps) of one "
            + "shared instance and of one instance per thread, at each number of calling threads.")
    static final class Throughput implements Callable<Integer> {
        @Option(names = "--threads", split = ",", defaultValue = "1,2", description = "calling threads (default 1,2)")
        int[] threads;
        @Option(names = "--seconds", defaultValue = "5", description = "measured seconds per row (default 5)")
        double seconds;
        @Option(names = "--rounds", defaultValue = "3", description = "rounds, rows interleaved (default 3)")
        int rounds;

        @Override
        public Integer call() throws Exception {
            INDArray x = input(1, STEPS, 64);
            TorchLstm shared = model(7);
            List<String> rows = new ArrayList<>();
            List<double[]> rates = new ArrayList<>();
            for (int callers : threads) {
                for (boolean isShared : new boolean[] {true, false}) {
                    rows.add(callers + " | " + (isShared ? "one shared instance" : "one instance per thread"));
                    rates.add(new double[rounds]);
                }
            }
            for (int round = -1; round < rounds; round++) {
                int row = 0;
                for (int callers : threads) {
                    for (boolean isShared : new boolean[] {true, false}) {
                        List<TorchLstm> instances = new ArrayList<>();
                        for (int t = 0; t < callers; t++) {
                            instances.add(isShared ? shared : TorchLstm.fromStateDict(MNIST, Engine.FAST,
                                    shared.stateDict()).eval());
                        }
                        double rate = rate(instances, x, round < 0 ? 1 : seconds);
                        if (round >= 0) {
                            rates.get(row)[round] = rate;
                            System.err.printf(Locale.ROOT, "round %d: %s: %.1f forwards/s%n", round, rows.get(row),
                                    rate);
                        }
                        row++;
                    }
                }
            }
            System.out.println("| calling threads | instances | forwards/s (median of " + rounds + " rounds) | "
                    + "rounds |");
            System.out.println("|---|---|---|---|");
            for (int i = 0; i < rows.size(); i++) {
                double[] r = rates.get(i).clone();
                Arrays.sort(r);
                System.out.printf(Locale.ROOT, "| %s | %.1f | %s |%n", rows.get(i), r[r.length / 2],
                        Arrays.toString(Arrays.stream(rates.get(i)).mapToLong(Math::round).toArray()));
            }
            return 0;
        }

        /** Forwards per second of {@code instances.size()} threads, thread t calling instance t, for a while. */
        private static double rate(List<TorchLstm> instances, INDArray x, double seconds) throws InterruptedException {
            AtomicBoolean stop = new AtomicBoolean();
            LongAdder done = new LongAdder();
            List<Thread> callers = new ArrayList<>();
            for (TorchLstm lstm : instances) {
                Thread caller = new Thread(() -> {
                    while (!stop.get()) {
                        lstm.forward(x);
                        done.increment();
                    }
                });
                callers.add(caller);
                caller.start();
            }
            long start = System.nanoTime();
            Thread.sleep(Math.round(seconds * 1000));
            long forwards = done.sum();
            double elapsed = (System.nanoTime() - start) / 1e9;
            stop.set(true);
            for (Thread caller : callers) {
                caller.join();
            }
            return forwards / elapsed;
        }
    }

    @Command(name = "streaming", description = "Latency of one-step calls with the state carried (batch 1 and 64, "
            + "and batch-1 and unbatched calls in turn on one instance): median, p90, p99, max, and the garbage "
            + "collections during the measured calls.")
    static final class Streaming implements Callable<Integer> {
        @Option(names = "--calls", defaultValue = "20000",
                description = "measured calls per row (default 20000)")
        int calls;
        // HotSpot compiles a method with C2 after about 10,000-15,000 invocations, and the deallocation paths at the
        // first garbage collections: the measured calls start once those compilations are done (docs/design.md)
        @Option(names = "--warmup", defaultValue = "30000",
                description = "calls before measuring (default 30000: past the JIT's compilations)")
        int warmup;
        @Option(names = "--batch", split = ",", defaultValue = "1,64", description = "batch sizes (default 1,64)")
        int[] batches;
        @Option(names = "--mixed", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "also time batch-1 and unbatched calls in turn on one instance (default: on; "
                        + "--no-mixed leaves it out)")
        boolean mixed;

        @Override
        public Integer call() {
            System.out.println("| batch | calls | median us | p90 us | p99 us | p99 / median | max us | GCs | GC ms "
                    + "| heap KiB per call | medians of the blocks of " + BLOCK + " us | p99 / median within a block "
                    + "(median over blocks) |");
            System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (int batch : batches) {
                TorchLstm lstm = model(7);
                INDArray x = input(2, 1, batch);
                LstmState[] state = {null};
                measure(Integer.toString(batch), () -> {
                    LstmOutput out = lstm.forward(x, state[0]);
                    state[0] = new LstmState(out.hN(), out.cN());
                });
            }
            if (mixed) {
                // one instance serving two kinds of call in turn, as a server with callers of both kinds would
                TorchLstm lstm = model(7);
                INDArray batched = input(2, 1, 1);
                INDArray unbatched = batched.reshape(1, MNIST.inputSize());
                LstmState[] states = {null, null};
                int[] turn = {0};
                measure("1 and unbatched in turn, one instance", () -> {
                    int kind = turn[0]++ & 1;
                    LstmOutput out = lstm.forward(kind == 0 ? batched : unbatched, states[kind]);
                    states[kind] = new LstmState(out.hN(), out.cN());
                });
            }
            System.out.println();
            System.out.println("A \"spin loop\" row times plain arithmetic that allocates nothing, sized to the median "
                    + "of the last 5,000 warm-up calls, in blocks of " + BLOCK + " alternating with blocks of the calls above it: the tail "
                    + "this machine's scheduling and the JVM alone give (on a busy machine, other processes' time "
                    + "slices). A \"memory loop\" row does the same, but first reads one float per cache line of an "
                    + "array as large as the model's parameters (" + MNIST.parameterCount() * Float.BYTES / 1024
                    + " KiB), as every call must: after another process has run on its core, the data comes back "
                    + "from farther caches or memory. GCs and heap per call count the calls' phase (the loops "
                    + "allocate nothing).");
            return 0;
        }

        /** Warms {@code call} up, times it in blocks alternating with its two floors, and prints their rows. */
        private void measure(String label, Runnable call) {
            long[] warm = new long[Math.max(1, warmup)];
            for (int i = 0; i < warmup; i++) {
                warm[i] = timed(call);
            }
            // sized to the warm-up's last calls: its first ones run before the JIT has compiled them
            long[] settled = Arrays.copyOfRange(warm, warm.length - Math.min(warm.length, 5000), warm.length);
            Arrays.sort(settled);
            long iterations = spinIterations(settled[settled.length / 2]);
            Runnable spin = () -> spin(iterations);
            // the same time, spent reading as many bytes as the call's parameters and then spinning
            float[] parameters = new float[Math.toIntExact(MNIST.parameterCount())];
            long memoryIterations = memoryIterations(parameters, settled[settled.length / 2]);
            Runnable memory = () -> memoryLoop(parameters, memoryIterations);
            long[] times = new long[calls];
            long[] floor = new long[calls];
            long[] memoryFloor = new long[calls];
            long gcCount = gcCount();
            long gcMillis = gcMillis();
            long allocated = allocatedBytes();
            // blocks of calls and of the spin loop alternate, so that both see the same moments of a busy machine
            for (int from = 0; from < calls; from += BLOCK) {
                int to = Math.min(calls, from + BLOCK);
                for (int i = from; i < to; i++) {
                    times[i] = timed(call);
                }
                for (int i = from; i < to; i++) {
                    floor[i] = timed(spin);
                }
                for (int i = from; i < to; i++) {
                    memoryFloor[i] = timed(memory);
                }
            }
            allocated = allocatedBytes() - allocated;
            gcCount = gcCount() - gcCount;
            gcMillis = gcMillis() - gcMillis;
            row(label, times, gcCount, gcMillis, allocated / 1024.0 / calls);
            row(label + " (spin loop)", floor, -1, -1, -1);
            row(label + " (memory loop)", memoryFloor, -1, -1, -1);
        }

        /**
         * One table row of {@code times} in the order measured. The two block columns tell a spread within calls
         * from a machine that changes speed for seconds at a time: when the block medians move (other work on the
         * host), the whole run's p99 over its median grows although each block's stays where it was.
         */
        private static void row(String label, long[] times, long gcs, long gcMillis, double heapKibPerCall) {
            long[] sorted = times.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            double median = sorted[n / 2] / 1e3;
            double p99 = sorted[(int) (n * 0.99)] / 1e3;
            double[] blockMedians = new double[(n + BLOCK - 1) / BLOCK];
            double[] blockRatios = new double[blockMedians.length];
            for (int b = 0; b < blockMedians.length; b++) {
                long[] block = Arrays.copyOfRange(times, b * BLOCK, Math.min(n, (b + 1) * BLOCK));
                Arrays.sort(block);
                blockMedians[b] = block[block.length / 2] / 1e3;
                blockRatios[b] = block[(int) (block.length * 0.99)] / 1e3 / blockMedians[b];
            }
            Arrays.sort(blockMedians);
            Arrays.sort(blockRatios);
            System.out.printf(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.2f | %.1f | %s | %s | %s | %.1f-%.1f | %.2f |%n",
                    label, n, median, sorted[(int) (n * 0.9)] / 1e3, p99, p99 / median, sorted[n - 1] / 1e3,
                    gcs < 0 ? "—" : Long.toString(gcs), gcMillis < 0 ? "—" : Long.toString(gcMillis),
                    heapKibPerCall < 0 ? "—" : String.format(Locale.ROOT, "%.1f", heapKibPerCall),
                    blockMedians[0], blockMedians[blockMedians.length - 1], blockRatios[blockRatios.length / 2]);
        }

        private static final int BLOCK = 500;

        private static long timed(Runnable work) {
            long start = System.nanoTime();
            work.run();
            return System.nanoTime() - start;
        }

        /** Iterations of {@link #spin} that take about {@code nanos}. */
        private static long spinIterations(long nanos) {
            for (int i = 0; i < 20_000; i++) { // compiled before it is timed: an interpreted probe would undershoot
                spin(1000);
            }
            long iterations = 1000;
            for (int i = 0; i < 20; i++) { // calibrate: median of a few runs
                long[] probe = new long[9];
                for (int k = 0; k < probe.length; k++) {
                    long start = System.nanoTime();
                    spin(iterations);
                    probe[k] = System.nanoTime() - start;
                }
                Arrays.sort(probe);
                iterations = Math.max(1, Math.round(iterations * (double) nanos / Math.max(1, probe[4])));
            }
            return iterations;
        }

        private static double spinSink;

        /** Iterations of {@link #spin} that, after one pass over {@code data}, make {@link #memoryLoop} take {@code nanos}. */
        private static long memoryIterations(float[] data, long nanos) {
            for (int i = 0; i < 20_000; i++) { // compiled before it is timed
                memoryLoop(data, 10);
            }
            long[] probe = new long[101];
            for (int k = 0; k < probe.length; k++) {
                long start = System.nanoTime();
                memoryLoop(data, 0);
                probe[k] = System.nanoTime() - start;
            }
            Arrays.sort(probe);
            return spinIterations(Math.max(1, nanos - probe[probe.length / 2]));
        }

        /** Reads one float per 64-byte cache line of {@code data}, then spins {@code iterations}. */
        private static void memoryLoop(float[] data, long iterations) {
            float sum = 0;
            for (int k = 0; k < data.length; k += 16) {
                sum += data[k];
            }
            spinSink += sum;
            spin(iterations);
        }

        private static void spin(long iterations) {
            double x = spinSink;
            for (long k = 0; k < iterations; k++) {
                x = x * 0.999999 + 1e-9 * k;
            }
            spinSink = x;
        }
    }

    @Command(name = "longrun", description = "Resident memory (VmRSS) over a long run of MNIST-size forwards, then "
            + "of gradients calls: flat after warm-up when native memory is bounded.")
    static final class LongRun implements Callable<Integer> {
        @Option(names = "--forwards", defaultValue = "200000", description = "forward calls (default 200000)")
        int forwards;
        @Option(names = "--gradients", defaultValue = "20000", description = "gradients calls (default 20000)")
        int gradients;
        @Option(names = "--samples", defaultValue = "10", description = "rows per phase (default 10)")
        int samples;

        @Override
        public Integer call() throws IOException {
            TorchLstm lstm = model(7);
            INDArray x = input(3, STEPS, 64);
            Nd4j.getRandom().setSeed(4);
            INDArray outputGradient = Nd4j.randn(DataType.FLOAT, STEPS, 64, MNIST.outputSize());
            System.out.printf(Locale.ROOT, "Long run: %s, FAST engine, float32, input (%d, 64, %d) (L, N, H_in); %d forwards "
                    + "(eval), then %d gradients calls; OMP_NUM_THREADS=%s, JVM options: %s; JVM max heap %d MiB, "
                    + "JavaCPP maxBytes %d MiB, maxPhysicalBytes %d MiB; %s; load average %s at the start.%n%n", MNIST,
                    STEPS, MNIST.inputSize(), forwards, gradients, System.getenv("OMP_NUM_THREADS"), Worker.jvmOptions(),
                    Runtime.getRuntime().maxMemory() >> 20, Pointer.maxBytes() >> 20, Pointer.maxPhysicalBytes() >> 20,
                    io.torchlstm4j.platform.NativePlatform.initialize().nativeLibrary(), Machine.loadAverage());
            System.out.println("| phase | calls | seconds | VmRSS MiB | heap used MiB | JavaCPP totalBytes MiB "
                    + "| JavaCPP totalCount | GCs |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
            run("forward", forwards, () -> lstm.forward(x));
            run("gradients", gradients, () -> lstm.gradients(x, null, null, outputGradient));
            System.out.printf(Locale.ROOT, "%nPeak resident memory (VmHWM): %d MiB; load average %s at the end.%n",
                    Worker.vmHwmKib() >> 10, Machine.loadAverage());
            return 0;
        }

        private void run(String phase, int calls, Runnable call) throws IOException {
            int every = Math.max(1, calls / samples);
            long start = System.nanoTime();
            for (int i = 1; i <= calls; i++) {
                call.run();
                if (i % every == 0 || i == calls) {
                    Runtime rt = Runtime.getRuntime();
                    System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %d | %d | %d | %d | %d |%n", phase, i,
                            (System.nanoTime() - start) / 1e9, rssMiB(), (rt.totalMemory() - rt.freeMemory()) >> 20,
                            Pointer.totalBytes() >> 20, Pointer.totalCount(), gcCount());
                    System.err.printf(Locale.ROOT, "%s: %d calls, %.0f s%n", phase, i,
                            (System.nanoTime() - start) / 1e9);
                }
            }
        }
    }

    static long rssMiB() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) >> 10;
            }
        }
        return -1;
    }

    /** Heap bytes this thread has allocated so far (HotSpot's ThreadMXBean extension). */
    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
    }
}
