package io.torchlstm4j.fuzz;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Feeds a {@link FuzzTarget} mutated inputs and sorts every outcome: a read, a refusal with the target's exception
 * (counted by kind of message), or anything else: another exception, an {@link Error} (stack overflow, out of
 * memory), a refusal whose message is empty or does not name the file, or a read slower than the time limit (a
 * hang; one that never returns halts the JVM, see {@link Watchdog}). One input in 16 is one of the target's hostile inputs, every other one of those mutated; the rest are
 * seeds with one to four {@link Mutator} mutations. Inputs of other outcomes are saved under
 * {@code target/fuzz-failures/} to be replayed.
 *
 * <p>Deterministic for a given seed (apart from timing). Not safe for concurrent use. Reads run on the calling
 * thread (a hand-off to a worker per input would cost more than most reads).
 */
public final class FuzzRunner {

    private static final int EXAMPLES = 5;
    private static final Pattern QUOTED = Pattern.compile("'[^']*'|\"[^\"]*\"");
    private static final Pattern BRACKETED = Pattern.compile("\\[[^\\]]*\\]");
    private static final Pattern NUMBER = Pattern.compile("-?\\d+");

    private FuzzRunner() {
    }

    /** Whether {@code target} is among the comma-separated names of {@code fuzz.targets} (all when unset). */
    public static boolean selected(FuzzTarget target) {
        String names = System.getProperty("fuzz.targets", "");
        return names.isBlank() || List.of(names.split(",")).contains(target.name());
    }

    /**
     * Runs {@code target} as the system properties say: {@code fuzz.count} inputs (default 300, the suite's
     * count), random seed {@code fuzz.seed} (default 18), time limit {@code fuzz.timeLimitSeconds} per input
     * (default 10); prints the summary to stdout and writes it to {@code target/fuzz-reports/<name>.txt}.
     */
    /**
     * The suite's check of a target (skipped when not in {@code fuzz.targets}): every input read or refused with the
     * target's exception, nothing else, and the mutations reaching both outcomes.
     */
    public static void assertReadOrRefused(FuzzTarget target) {
        assumeTrue(selected(target), "not in fuzz.targets");
        FuzzReport report = runConfigured(target);
        assertEquals(0, report.others(), report.summary(20));
        assertTrue(report.successes() > 0 && report.refused() > 0,
                "the mutations reach both outcomes: " + report.summary(5));
    }

    public static FuzzReport runConfigured(FuzzTarget target) {
        FuzzReport report = run(target, Integer.getInteger("fuzz.count", 300), Long.getLong("fuzz.seed", 18),
                Duration.ofSeconds(Long.getLong("fuzz.timeLimitSeconds", 10)));
        String summary = report.summary(40);
        System.out.println(summary);
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-reports"));
            Files.writeString(dir.resolve(target.name().replaceAll("[^A-Za-z0-9.]", "_") + ".txt"), summary + "\n");
        } catch (IOException e) {
            System.out.println("(report not written: " + e + ")");
        }
        return report;
    }

    /** Runs {@code count} inputs of {@code target} from random seed {@code seed}, each within {@code timeLimit}. */
    public static FuzzReport run(FuzzTarget target, int count, long seed, Duration timeLimit) {
        Random random = new Random(seed);
        Mutator mutator = new Mutator(random);
        Pattern path = Pattern.compile(target.fileName() == null ? "(?!)" : "\\S*" + Pattern.quote(target.fileName()));
        Map<String, Long> refusals = new TreeMap<>();
        List<String> examples = new ArrayList<>();
        long successes = 0;
        long others = 0;
        warmUp(target);
        long start = System.nanoTime();
        Watchdog watchdog = new Watchdog(target, timeLimit);
        try {
            for (int i = 0; i < count; i++) {
                byte[] input = input(target, mutator, random, i);
                String problem;
                long began = System.nanoTime();
                watchdog.reading(i, input);
                try {
                    target.reader().read(input);
                    problem = null;
                } catch (Throwable thrown) {
                    String message = thrown.getMessage();
                    boolean refused = target.refusal().isInstance(thrown) && message != null && !message.isBlank()
                            && (target.fileName() == null || message.contains(target.fileName()));
                    problem = refused ? "" : stackTrace(thrown);
                    if (refused) {
                        refusals.merge(kind(message, path), 1L, Long::sum);
                    }
                } finally {
                    watchdog.done();
                }
                long millis = (System.nanoTime() - began) / 1_000_000;
                if (millis > timeLimit.toMillis()) {
                    problem = "took " + millis + " ms, more than the " + timeLimit.toMillis() + " ms allowed (a hang)";
                } else if (problem == null) {
                    successes++;
                    continue;
                } else if (problem.isEmpty()) {
                    continue;
                }
                others++;
                if (examples.size() < EXAMPLES) {
                    examples.add("  input " + i + " (" + input.length + " bytes, saved as " + save(target, i, input)
                            + "): " + problem);
                }
            }
        } finally {
            watchdog.close();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new FuzzReport(target.name(), count, successes, refusals, others, examples, seconds,
                Runtime.getRuntime().maxMemory() >> 20);
    }

    /**
     * Reads every seed once, untimed and uncounted, so that one-time initialisation (ND4J loading its native
     * backend takes seconds) is not taken for a hang. An Error still fails the run.
     */
    private static void warmUp(FuzzTarget target) {
        for (byte[] seed : target.seeds()) {
            try {
                target.reader().read(seed);
            } catch (Exception e) {
                // a refused seed warms up the refusal path just as well
            }
        }
    }

    private static byte[] input(FuzzTarget target, Mutator mutator, Random random, int i) {
        List<byte[]> seeds = target.seeds();
        if (i % 16 == 15 && !target.hostile().isEmpty()) {
            byte[] hostile = target.hostile().get(random.nextInt(target.hostile().size()));
            return (i / 16) % 2 == 0 ? hostile : mutator.mutate(hostile, seeds.get(random.nextInt(seeds.size())));
        }
        return mutator.mutate(seeds.get(random.nextInt(seeds.size())), seeds.get(random.nextInt(seeds.size())));
    }

    /** The message with the file's path, quoted text, bracketed lists and numbers masked, at most 100 characters. */
    static String kind(String message, Pattern path) {
        String k = path.matcher(message).replaceAll("FILE");
        k = QUOTED.matcher(k).replaceAll("'…'");
        k = BRACKETED.matcher(k).replaceAll("[…]");
        k = NUMBER.matcher(k).replaceAll("N");
        return k.length() <= 100 ? k : k.substring(0, 100) + "…";
    }

    private static String stackTrace(Throwable thrown) {
        StringWriter text = new StringWriter();
        thrown.printStackTrace(new PrintWriter(text));
        String[] lines = text.toString().split("\n");
        return String.join("\n    ", java.util.Arrays.copyOf(lines, Math.min(lines.length, 12)));
    }

    private static String save(FuzzTarget target, int i, byte[] input) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "fuzz-failures"));
            Path file = dir.resolve(target.name().replaceAll("[^A-Za-z0-9.]", "_") + "-" + i + ".bin");
            Files.write(file, input);
            return file.toString();
        } catch (IOException e) {
            return "(not saved: " + e + ")";
        }
    }

    /**
     * Watches the reading thread from a daemon thread: a read still running at three times the time limit never
     * returns to be counted, so the watchdog saves its input, prints the reading thread's stack and halts the JVM
     * with status 3 (a hang fails the run, as a surefire fork that died).
     */
    private static final class Watchdog implements AutoCloseable {
        private final Thread reader = Thread.currentThread();
        private final Thread thread;
        private volatile long began;
        private volatile int index;
        private volatile byte[] input;

        Watchdog(FuzzTarget target, Duration timeLimit) {
            long limit = timeLimit.toNanos() * 3;
            thread = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    byte[] current = input;
                    if (current != null && System.nanoTime() - began > limit) {
                        System.out.println(target.name() + ": input " + index + " read for more than "
                                + limit / 1_000_000 + " ms, saved as " + save(target, index, current) + "; stack:");
                        for (StackTraceElement e : reader.getStackTrace()) System.out.println("    at " + e);
                        System.out.flush();
                        Runtime.getRuntime().halt(3);
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "fuzz-watchdog");
            thread.setDaemon(true);
            thread.start();
        }

        void reading(int i, byte[] bytes) {
            index = i;
            began = System.nanoTime();
            input = bytes;
        }

        void done() {
            input = null;
        }

        @Override
        public void close() {
            thread.interrupt();
        }
    }
}
