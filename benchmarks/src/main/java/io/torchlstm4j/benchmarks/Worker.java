package io.torchlstm4j.benchmarks;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.Supplier;

/**
 * The line protocol every worker process speaks with the coordinator ({@code torch_worker.py} speaks it too).
 *
 * <pre>
 * info                 -&gt; BENCH ok key=value&lt;TAB&gt;key=value...
 * run key=value ...    -&gt; BENCH ok &lt;ns&gt; &lt;ns&gt; ...        one wall time per iteration (iters=...), after
 *                                                     an untimed lead-in of lead_s= seconds (default 0)
 * runpair A... | B... iters=N
 *                      -&gt; BENCH ok &lt;nsA&gt; &lt;nsB&gt; ...      N pairs: each iteration runs A and B back to back
 *                                                     (A first in even iterations, B first in odd ones)
 * settle key=value ... iters=N max_s=S
 *                      -&gt; BENCH ok &lt;runs&gt; &lt;seconds&gt; quiet|capped
 *                                                     runs the workload N iterations at a time until HotSpot's
 *                                                     compilers have been quiet for a window (not timed)
 *                      -&gt; BENCH unavailable &lt;why&gt;       the implementation does not exist (yet)
 *                      -&gt; BENCH error &lt;message&gt;
 * quit
 * </pre>
 * Replies start with {@code BENCH } on the real stdout; {@code System.out} is sent to stderr so that nothing a
 * library prints can be read as a reply. A workload is built on its first {@code run} (not timed) and reused.
 *
 * <p>Launch mode ({@code --launch STEPS spec...}) measures start-up and memory: build the classifier, run one
 * forward, print {@code BENCH first_forward}, run STEPS training steps, print {@code BENCH vmhwm_kib <KiB>}.
 */
final class Worker {

    /** One timed iteration of a workload. */
    interface Workload {
        void run() throws Exception;
    }

    /** Builds workloads; throws UnsupportedOperationException for an implementation that does not exist. */
    interface Factory {
        Workload create(Spec spec) throws Exception;
    }

    private final Factory factory;
    /** Made when an {@code info} command asks, never at start: launch mode times start-up, not this report's probes. */
    private final Supplier<Map<String, String>> info;
    private final PrintStream protocol;

    private Worker(Factory factory, Supplier<Map<String, String>> info) {
        this.factory = factory;
        this.info = info;
        this.protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
    }

    /** Runs the protocol (or launch mode) on stdin/stdout until {@code quit} or end of input. */
    static void main(String[] args, Factory factory, Supplier<Map<String, String>> info) throws Exception {
        Worker worker = new Worker(factory, info);
        if (args.length > 1 && args[0].equals("--launch")) {
            worker.launch(Integer.parseInt(args[1]), Spec.parse(Arrays.asList(args).subList(2, args.length)));
        } else {
            worker.serve();
        }
    }

    private void launch(int steps, Spec spec) throws Exception {
        Workload forward;
        try {
            forward = factory.create(spec.with("classifier_forward", spec.variant()));
        } catch (UnsupportedOperationException e) {
            reply("unavailable", oneLine(e));
            return;
        }
        forward.run();
        reply("first_forward", "");
        Workload train = factory.create(spec.with("classifier_train", spec.variant()));
        for (int i = 0; i < steps; i++) {
            train.run();
        }
        reply("vmhwm_kib", Long.toString(vmHwmKib()));
    }

    private void serve() throws IOException {
        Map<String, Workload> workloads = new HashMap<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            List<String> words = Arrays.asList(line.trim().split("\\s+"));
            switch (words.get(0)) {
                case "" -> { }
                case "quit" -> {
                    return;
                }
                case "info" -> {
                    StringJoiner fields = new StringJoiner("\t");
                    info.get().forEach((k, v) -> fields.add(k + "=" + v.replace('\t', ' ')));
                    reply("ok", fields.toString());
                }
                case "run" -> run(words.subList(1, words.size()), workloads);
                case "runpair" -> runPair(words.subList(1, words.size()), workloads);
                case "settle" -> settle(words.subList(1, words.size()), workloads);
                default -> reply("error", "unknown command '" + words.get(0) + "'");
            }
        }
    }

    private void run(List<String> words, Map<String, Workload> workloads) {
        respond(() -> {
            int iterations = iterations(words);
            Workload workload = workload(words, workloads);
            leadIn(words, workload);
            // kept in an array until the end: no garbage of ours between calls of microseconds
            long[] nanos = new long[iterations];
            for (int i = 0; i < iterations; i++) {
                nanos[i] = time(workload);
            }
            StringJoiner times = new StringJoiner(" ");
            for (long t : nanos) {
                times.add(Long.toString(t));
            }
            return times.toString();
        });
    }

    /**
     * Two workloads timed in pairs, back to back, alternating which runs first: their ratio per pair is immune to
     * the slow drifts of a shared machine that separate runs of each suffer from.
     */
    private void runPair(List<String> words, Map<String, Workload> workloads) {
        respond(() -> {
            int bar = words.indexOf("|");
            if (bar < 0) {
                throw new IllegalArgumentException("runpair needs 'A... | B...'");
            }
            int iterations = iterations(words);
            Workload a = workload(words.subList(0, bar), workloads);
            Workload b = workload(words.subList(bar + 1, words.size()), workloads);
            leadIn(words, a);
            leadIn(words, b);
            StringJoiner times = new StringJoiner(" ");
            for (int i = 0; i < iterations; i++) {
                boolean aFirst = i % 2 == 0;
                long first = time(aFirst ? a : b);
                long second = time(aFirst ? b : a);
                times.add(Long.toString(aFirst ? first : second)).add(Long.toString(aFirst ? second : first));
            }
            return times.toString();
        });
    }

    /**
     * Runs the workload untimed for lead_s= seconds (none without it). The coordinator pauses a worker between its
     * turns; on this kind of machine (virtual CPUs on a shared host) a process that uses the second CPU again after a
     * second or more without it ran the MNIST forward at 2 threads at 4.0-4.2 ms for the next 20 calls against 2.5-3.3
     * ms in a continuous loop, while at one thread the two were the same. A training loop or a busy server runs
     * continuously, so each turn is timed after a lead-in.
     */
    private static void leadIn(List<String> words, Workload workload) throws Exception {
        double seconds = optionalValue(words, LEAD_IN).map(Double::parseDouble).orElse(0.0);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            workload.run();
        }
    }

    /**
     * Runs a workload until the JIT has settled: HotSpot compiles a large program's methods over thousands of calls
     * (DL4J's training step: C2 was still compiling 10-30% of a core's time 25 s into a run of MNIST steps), and
     * at 2 threads its compiler threads take the second core that the measured calls would use. Settled means
     * that the compilers spent at most {@link #QUIET_SHARE} of a window of at least {@link #QUIET_WINDOW_NANOS}
     * compiling; gives up after max_s seconds ("capped").
     */
    private void settle(List<String> words, Map<String, Workload> workloads) {
        respond(() -> {
            int iterations = iterations(words);
            double maxSeconds = Double.parseDouble(value(words, MAX_SECONDS));
            Workload workload = workload(words, workloads);
            CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            long start = System.nanoTime();
            long windowStart = start;
            long windowCompileMillis = jit.getTotalCompilationTime();
            long runs = 0;
            boolean quiet = false;
            while (!quiet && System.nanoTime() - start < maxSeconds * 1e9) {
                for (int i = 0; i < iterations; i++) {
                    workload.run();
                }
                runs += iterations;
                long now = System.nanoTime();
                if (now - windowStart >= QUIET_WINDOW_NANOS) {
                    long compiledMillis = jit.getTotalCompilationTime() - windowCompileMillis;
                    quiet = compiledMillis * 1e6 <= QUIET_SHARE * (now - windowStart);
                    windowStart = now;
                    windowCompileMillis = jit.getTotalCompilationTime();
                }
            }
            return String.format(Locale.ROOT, "%d %.1f %s", runs, (System.nanoTime() - start) / 1e9,
                    quiet ? "quiet" : "capped");
        });
    }

    /** The command words that are not part of a workload's spec. */
    private static final String ITERATIONS = "iters=";
    private static final String MAX_SECONDS = "max_s=";
    static final String LEAD_IN = "lead_s=";

    static final double QUIET_SHARE = 0.01;
    static final long QUIET_WINDOW_NANOS = 2_000_000_000L;

    /** What a run command measures: the reply's payload. */
    private interface Measurement {
        String times() throws Exception;
    }

    /** Replies ok with the measurement, unavailable when the implementation does not exist, else error. */
    private void respond(Measurement measurement) {
        try {
            reply("ok", measurement.times());
        } catch (UnsupportedOperationException e) {
            reply("unavailable", oneLine(e));
        } catch (Throwable e) {
            e.printStackTrace(System.err);
            reply("error", e.getClass().getSimpleName() + ": " + oneLine(e));
        }
    }

    private static int iterations(List<String> words) {
        return Integer.parseInt(value(words, ITERATIONS));
    }

    /** The value of the command word {@code key=value} ({@code key} given with its '='). */
    private static String value(List<String> words, String key) {
        return optionalValue(words, key).orElseThrow(() -> new IllegalArgumentException("no " + key));
    }

    /** The value of the command word {@code key=value}, if the command has it. */
    private static Optional<String> optionalValue(List<String> words, String key) {
        return words.stream().filter(w -> w.startsWith(key)).findFirst().map(w -> w.substring(key.length()));
    }

    /** The workload of a spec (the words other than the command's iters=, max_s= and lead_s=), built on first use. */
    private Workload workload(List<String> words, Map<String, Workload> workloads) throws Exception {
        Spec spec = Spec.parse(words.stream().filter(w -> !w.startsWith(ITERATIONS) && !w.startsWith(MAX_SECONDS)
                && !w.startsWith(LEAD_IN)).toList());
        String key = String.join(" ", spec.words());
        Workload workload = workloads.get(key);
        if (workload == null) {
            workload = factory.create(spec);
            workloads.put(key, workload);
        }
        return workload;
    }

    private static long time(Workload workload) throws Exception {
        long start = System.nanoTime();
        workload.run();
        return System.nanoTime() - start;
    }

    private static String oneLine(Throwable e) {
        return String.valueOf(e.getMessage()).replace('\n', ' ');
    }

    private void reply(String status, String payload) {
        protocol.println("BENCH " + status + (payload.isEmpty() ? "" : " " + payload));
    }

    /** This JVM's command-line options (the report shows them per worker), or "(none)". */
    static String jvmOptions() {
        List<String> options = ManagementFactory.getRuntimeMXBean().getInputArguments();
        return options.isEmpty() ? "(none)" : String.join(" ", options);
    }

    /** Peak resident set size of this process (VmHWM of /proc/self/status), in KiB. */
    static long vmHwmKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmHWM line in /proc/self/status");
    }
}
