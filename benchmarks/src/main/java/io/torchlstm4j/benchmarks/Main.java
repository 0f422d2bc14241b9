package io.torchlstm4j.benchmarks;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * The benchmark coordinator: for each thread count it starts one worker process per implementation (this project's
 * FAST and REFERENCE engines, PyTorch, DJL) with the same thread settings, then runs interleaved rounds (every case,
 * every implementation, in a rotating order) after a warm-up round, with only the worker being timed running (the
 * others are paused), and finally launches each framework fresh to time its start-up and
 * peak memory. Results go to stdout and to BENCHMARKS.md. Progress goes to stderr; worker logs to
 * benchmarks/target/logs.
 */
@Command(name = "benchmarks/run.sh", mixinStandardHelpOptions = true,
        description = "TorchLSTM4j vs PyTorch 1.13 vs DJL/libtorch on this machine, interleaved, same threads.")
public final class Main implements Callable<Integer> {

    @Option(names = "--quick", description = "Fewer rounds, iterations and launches (a smoke run of a minute or two).")
    boolean quick;

    @Option(names = "--threads", split = ",", description = "Thread counts (default: 1,2).")
    List<Integer> threads = List.of(1, 2);

    @Option(names = "--cases", split = ",", description = "Only these case ids (default: all).")
    List<String> caseIds = List.of();

    @Option(names = "--rounds", description = "Measured rounds after the warm-up round (default: 5, quick: 2).")
    Integer rounds;

    @Option(names = "--launches", description = "Start-up/memory launches per framework (default: 3, quick: 1; 0 skips).")
    Integer launches;

    @Option(names = "--settle-seconds", description = "In the warm-up round, run each case on each JVM worker until "
            + "HotSpot's compilers are quiet, at most this long (default: 30, quick: 0, which warms up with one run "
            + "of the case's iterations as PyTorch's worker does).")
    Integer settleSeconds;

    @Option(names = "--lead-in-seconds", description = "Untimed lead-in at the start of each turn of a case of many "
            + "iterations, on every worker (default: 0.5): a paused worker that starts using its second CPU again "
            + "runs slower for the next tenths of a second on a virtual machine.")
    double leadInSeconds = 0.5;

    @Option(names = "--repo", description = "Repository root (default: .).")
    Path repo = Path.of(".");

    @Option(names = "--output", description = "Markdown report (default: BENCHMARKS.md; with --quick "
            + "benchmarks/target/BENCHMARKS-quick.md).")
    Path output;

    @Option(names = "--python", description = "Python with PyTorch (default: /usr/bin/python3).")
    String python = "/usr/bin/python3";

    @Option(names = "--ours-jvm-option", description = "An extra JVM option for this project's workers only "
            + "(repeatable; write --ours-jvm-option=-Dkey=value). Each worker reports its JVM options in the report.")
    List<String> oursJvmOptions = List.of();

    @Option(names = "--command-line", description = "The command as typed, for the report.")
    String commandLine = "benchmarks/run.sh";

    private static final int FULL_LAUNCH_STEPS = 100;
    private static final int QUICK_LAUNCH_STEPS = 20;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Instant start = Instant.now();
        Machine machine = Machine.detect();
        double loadAtStart = Machine.loadAverage();
        List<Case> cases = Case.all().stream().filter(c -> caseIds.isEmpty() || caseIds.contains(c.id())).toList();
        if (cases.isEmpty()) {
            System.err.println("no case matches --cases " + caseIds + "; the cases are "
                    + Case.all().stream().map(Case::id).toList());
            return 2;
        }
        int measuredRounds = rounds != null ? rounds : quick ? 2 : 5;
        int launchCount = launches != null ? launches : quick ? 1 : 3;
        Path logs = repo.resolve("benchmarks/target/logs");
        Files.createDirectories(logs);
        Results results = new Results();
        results.noteLeadIn(leadInSeconds);
        for (int t : threads) {
            measure(t, cases, measuredRounds, logs, results);
        }
        if (launchCount > 0) {
            measureLaunches(launchCount, logs, results);
        }
        Duration took = Duration.between(start, Instant.now());
        Report report = new Report(machine, results, cases, threads, quick, measuredRounds, launchCount,
                quick ? QUICK_LAUNCH_STEPS : FULL_LAUNCH_STEPS, commandLine, start, took,
                loadAtStart + " at start, " + Machine.loadAverage() + " at the end");
        System.out.print(report.tables());
        Path out = output != null ? output
                : repo.resolve(quick ? "benchmarks/target/BENCHMARKS-quick.md" : "BENCHMARKS.md");
        writeAtomically(out, report.document());
        writeAtomically(repo.resolve("benchmarks/target/samples.csv"), report.samplesCsv());
        System.err.println("wrote " + out + " (" + took.toSeconds() + " s)");
        return results.failed() ? 1 : 0;
    }

    private void measure(int t, List<Case> cases, int measuredRounds, Path logs, Results results)
            throws IOException {
        Optional<Case> unbatched = Case.find(cases, Case.ONLINE_UNBATCHED);
        Optional<Case> batch1 = Case.find(cases, Case.ONLINE_BATCH1);
        Map<String, WorkerProcess> workers = new LinkedHashMap<>();
        try {
            for (String name : Case.WORKERS) {
                List<String> command = name.equals(Case.TORCH) ? torchCommand()
                        : name.equals(Case.DJL) ? djlCommand(t) : oursCommand();
                workers.put(name, WorkerProcess.start(name, command, env(t), logs.resolve(name + "-t" + t + ".log")));
            }
            for (Map.Entry<String, WorkerProcess> w : workers.entrySet()) {
                WorkerProcess.Reply info = exclusive(t, workers, w.getValue(), "info", results);
                results.putWorkerInfo(w.getKey() + " (" + t + " thread" + (t == 1 ? "" : "s") + ")", parseInfo(info));
            }
            for (int round = -1; round < measuredRounds; round++) {
                double load = Machine.loadAverage();
                System.err.printf("threads=%d %s (load average %.2f)%n", t,
                        round < 0 ? "warm-up round" : "round " + (round + 1) + "/" + measuredRounds, load);
                if (round >= 0) {
                    results.noteLoad(t, load);
                    if (t > 1) {
                        results.noteCapacity(t, capacityWithWorkersPaused(workers));
                    }
                }
                for (Case c : cases) {
                    if (round >= c.maxRounds()) {
                        continue;
                    }
                    if (c.adapter()) {
                        List<String> engines = new ArrayList<>(Case.ENGINES);
                        Collections.rotate(engines, round + 1);
                        for (String engine : engines) {
                            runPair(t, c, engine, workers, round >= 0, results);
                        }
                        continue;
                    }
                    List<Case.Column> columns = new ArrayList<>(c.columns());
                    Collections.rotate(columns, round + 1);
                    for (Case.Column column : columns) {
                        if (!results.isMissing(t, c, column)) {
                            runColumn(t, c, column, workers, round >= 0, results);
                        }
                    }
                }
                if (unbatched.isPresent() && batch1.isPresent()) {
                    runOnlinePair(t, unbatched.get(), batch1.get(), workers, round >= 0, results);
                }
            }
        } finally {
            workers.values().forEach(WorkerProcess::close);
        }
    }

    /**
     * {@link Machine#secondCoreCapacity} with every worker paused (the next {@link #exclusive} resumes the one it
     * times): what other processes leave of the machine at the start of a round.
     */
    private static double capacityWithWorkersPaused(Map<String, WorkerProcess> workers) throws IOException {
        for (WorkerProcess w : workers.values()) {
            w.pause();
        }
        try {
            return Machine.secondCoreCapacity();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while measuring the second core's capacity", e);
        }
    }

    /**
     * Sends {@code command} to {@code worker} with every other worker paused (SIGSTOP): the one being timed has the
     * cores to itself, as in a program that runs one implementation. The CPU time the others used meanwhile (zero
     * when pausing works) goes into the report.
     */
    private static WorkerProcess.Reply exclusive(int t, Map<String, WorkerProcess> workers, WorkerProcess worker,
                                                 String command, Results results) throws IOException {
        worker.resume();
        double othersBefore = 0;
        for (WorkerProcess other : workers.values()) {
            if (other != worker) {
                other.pause();
                othersBefore += other.cpuSeconds();
            }
        }
        WorkerProcess.Reply reply = worker.request(command);
        double othersAfter = 0;
        for (WorkerProcess other : workers.values()) {
            if (other != worker) {
                othersAfter += other.cpuSeconds();
            }
        }
        results.noteOthersCpu(t, othersAfter - othersBefore);
        return reply;
    }

    private void runColumn(int t, Case c, Case.Column column, Map<String, WorkerProcess> workers, boolean record,
                           Results results) throws IOException {
        String spec = String.join(" ", c.spec().with(column.kind(), column.variant()).words());
        if (!record && settles(c, column)) {
            settle(t, c, column, spec, workers, results);
            return;
        }
        String command = "run " + spec + " iters=" + c.iterations(quick) + leadIn(c);
        WorkerProcess.Reply reply = exclusive(t, workers, workers.get(column.worker()), command, results);
        if (accepted(t, c, List.of(column), column.label(), reply, results) && record) {
            results.add(t, c, column, WorkerProcess.times(reply));
        }
    }

    /**
     * The lead-in word of a turn of {@code c}: the cases of many iterations start each turn with {@link
     * #leadInSeconds} of untimed iterations (a large case's iteration takes seconds, which outlasts the slow start).
     */
    private String leadIn(Case c) {
        return leadInSeconds > 0 && c.iterations(quick) > 1 ? " " + Worker.LEAD_IN + leadInSeconds : "";
    }

    /**
     * Whether the warm-up of a column runs until its JVM's JIT is quiet: for the JVM workers (PyTorch's worker has no
     * JIT) and the cases of many iterations per round (a large case's iteration takes seconds: what the JIT still
     * compiles is a small share of it).
     */
    private boolean settles(Case c, Case.Column column) {
        return settleSeconds() > 0 && !column.worker().equals(Case.TORCH) && c.iterations(quick) > 1;
    }

    private int settleSeconds() {
        return settleSeconds != null ? settleSeconds : quick ? 0 : 30;
    }

    /** The warm-up of one column: the worker's settle command, its outcome kept for the report. */
    private void settle(int t, Case c, Case.Column column, String spec, Map<String, WorkerProcess> workers,
                        Results results) throws IOException {
        String command = "settle " + spec + " iters=" + c.iterations(quick) + " max_s=" + settleSeconds();
        WorkerProcess.Reply reply = exclusive(t, workers, workers.get(column.worker()), command, results);
        if (accepted(t, c, List.of(column), column.label() + " (settling)", reply, results)) {
            String[] outcome = reply.payload().split(" ");
            double seconds = Double.parseDouble(outcome[1]);
            boolean quiet = outcome[2].equals("quiet");
            System.err.printf(Locale.ROOT, "  %s / %s: JIT %s after %.1f s (%s iterations)%n", c.id(),
                    column.label(), quiet ? "quiet" : "still compiling", seconds, outcome[0]);
            results.noteSettle(t, column.worker(), seconds, quiet);
        }
    }

    /**
     * True for an "ok" reply; otherwise marks the columns missing ("n/a" for an implementation that does not
     * exist, "error" else, said on stderr as {@code what} failed).
     */
    private static boolean accepted(int t, Case c, List<Case.Column> columns, String what, WorkerProcess.Reply reply,
                                    Results results) {
        switch (reply.status()) {
            case "ok" -> {
                return true;
            }
            case "unavailable" -> columns.forEach(col -> results.markMissing(t, c, col, "n/a: " + reply.payload(), false));
            default -> {
                System.err.println("  " + c.id() + " / " + what + " failed: " + reply.payload());
                columns.forEach(col -> results.markMissing(t, c, col, "error: " + reply.payload(), true));
            }
        }
        return false;
    }

    /**
     * FAST's unbatched and batch-1 on-line calls timed in alternating pairs in one worker (each keeps its own
     * state): their ratio per pair, free of the drifts between the two cases' separate turns, decides the goal that
     * unbatched calls be no slower.
     */
    private void runOnlinePair(int t, Case unbatched, Case batch1, Map<String, WorkerProcess> workers, boolean record,
                               Results results) throws IOException {
        Case.Column u = unbatched.columns().get(0);
        Case.Column b = batch1.columns().get(0);
        if (results.isMissing(t, unbatched, u) || results.isMissing(t, batch1, b)) {
            return;
        }
        String command = "runpair " + String.join(" ", unbatched.spec().with(u.kind(), u.variant()).words()) + " | "
                + String.join(" ", batch1.spec().with(b.kind(), b.variant()).words()) + " iters="
                + unbatched.iterations(quick) + leadIn(unbatched);
        WorkerProcess.Reply reply = exclusive(t, workers, workers.get(u.worker()), command, results);
        if (accepted(t, unbatched, List.of(u), "FAST unbatched and batch 1 in pairs", reply, results) && record) {
            PairTimes pairs = PairTimes.of(WorkerProcess.times(reply));
            results.addRatios(t, unbatched, u, pairs.first(), pairs.second());
        }
    }

    /** A runpair reply's times, A's and B's of each pair (the reply lists them A, B, A, B, ...). */
    private record PairTimes(List<Long> first, List<Long> second) {
        static PairTimes of(List<Long> times) {
            List<Long> first = new ArrayList<>();
            List<Long> second = new ArrayList<>();
            for (int i = 0; i + 1 < times.size(); i += 2) {
                first.add(times.get(i));
                second.add(times.get(i + 1));
            }
            return new PairTimes(first, second);
        }
    }

    /** An adapter case: the engine's adapter and raw-network columns, timed in alternating pairs. */
    private void runPair(int t, Case c, String engine, Map<String, WorkerProcess> workers, boolean record,
                         Results results) throws IOException {
        Case.Column adapter = c.adapterColumn(engine);
        Case.Column raw = c.rawColumn(engine);
        if (results.isMissing(t, c, adapter) || results.isMissing(t, c, raw)) {
            return;
        }
        String command = "runpair " + String.join(" ", c.spec().with(adapter.kind(), engine).words()) + " | "
                + String.join(" ", c.spec().with(raw.kind(), engine).words()) + " iters=" + c.iterations(quick)
                + leadIn(c);
        WorkerProcess.Reply reply = exclusive(t, workers, workers.get(adapter.worker()), command, results);
        if (accepted(t, c, List.of(adapter, raw), engine + " adapter and raw", reply, results) && record) {
            PairTimes pairs = PairTimes.of(WorkerProcess.times(reply));
            results.addPairs(t, c, adapter, raw, pairs.first(), pairs.second());
        }
    }

    /** Fresh processes at 1 thread: launch to first forward of the MNIST classifier, then its training run. */
    private void measureLaunches(int count, Path logs, Results results) throws IOException {
        int steps = quick ? QUICK_LAUNCH_STEPS : FULL_LAUNCH_STEPS;
        Map<String, List<String>> implementations = new LinkedHashMap<>();
        implementations.put("PyTorch", withLaunch(torchCommand(), steps, "pytorch"));
        implementations.put("DJL", withLaunch(djlCommand(1), steps, "djl"));
        for (String engine : Case.ENGINES) {
            implementations.put("TorchLSTM4j " + engine, withLaunch(oursCommand(), steps, engine));
        }
        implementations.put(Report.WITHOUT_LSTM_ROW, withLaunch(oursCommand(), steps, OursWorker.WITHOUT_LSTM));
        for (int i = 0; i < count; i++) {
            System.err.printf("launch %d/%d (start-up and peak memory, %d training steps)%n", i + 1, count, steps);
            for (Map.Entry<String, List<String>> impl : implementations.entrySet()) {
                if (results.launchMissing().containsKey(impl.getKey())) {
                    continue;
                }
                Path log = logs.resolve("launch-" + impl.getKey().replace(' ', '-') + ".log");
                long t0 = System.nanoTime();
                try (WorkerProcess p = WorkerProcess.start(impl.getKey(), impl.getValue(), env(1), log)) {
                    WorkerProcess.Reply first = p.next();
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    if (first.status().equals("unavailable")) {
                        results.markLaunchMissing(impl.getKey(), "n/a: " + first.payload(), false);
                        continue;
                    }
                    WorkerProcess.Reply peak = p.next();
                    if (!first.status().equals("first_forward") || !peak.status().equals("vmhwm_kib")) {
                        throw new IOException("unexpected replies " + first + ", " + peak);
                    }
                    results.addLaunch(new Results.Launch(impl.getKey(), seconds, Long.parseLong(peak.payload().trim())));
                } catch (IOException e) {
                    System.err.println("  launch of " + impl.getKey() + " failed: " + e.getMessage());
                    results.markLaunchMissing(impl.getKey(), "error: " + e.getMessage(), true);
                }
            }
        }
    }

    private List<String> withLaunch(List<String> command, int steps, String variant) {
        List<String> c = new ArrayList<>(command);
        c.add("--launch");
        c.add(Integer.toString(steps));
        c.addAll(Case.mnist("classifier_forward").with("classifier_forward", variant).words());
        return c;
    }

    /** The same thread settings for every framework. */
    static Map<String, String> env(int threads) {
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BENCH_THREADS")) {
            env.put(name, Integer.toString(threads));
        }
        return env;
    }

    private static List<String> java() {
        List<String> c = new ArrayList<>();
        c.add(ProcessHandle.current().info().command().orElse("java"));
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        return c;
    }

    private List<String> oursCommand() {
        List<String> c = java();
        c.addAll(1, oursJvmOptions);
        c.add(OursWorker.class.getName());
        return c;
    }

    private static List<String> djlCommand(int threads) {
        List<String> c = java();
        c.add(1, "-Dai.djl.offline=true");
        c.add(1, "-Dai.djl.pytorch.num_threads=" + threads);
        c.add(1, "-Dai.djl.pytorch.num_interop_threads=1");
        c.add(DjlWorker.class.getName());
        return c;
    }

    private List<String> torchCommand() {
        return List.of(python, repo.resolve("benchmarks/torch_worker.py").toString());
    }

    private static Map<String, String> parseInfo(WorkerProcess.Reply reply) {
        Map<String, String> info = new LinkedHashMap<>();
        if (!reply.status().equals("ok")) {
            info.put("error", reply.payload());
            return info;
        }
        for (String field : reply.payload().split("\t")) {
            int eq = field.indexOf('=');
            if (eq > 0) {
                info.put(field.substring(0, eq), field.substring(eq + 1));
            }
        }
        return info;
    }

    private static void writeAtomically(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
