package io.torchlstm4j.benchmarks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Everything measured in one run: timing samples, why a column has none, launches, worker reports. */
final class Results {

    /** One launch of a worker process in launch mode. */
    record Launch(String implementation, double secondsToFirstForward, long peakRssKib) {
    }

    private final Map<String, List<Long>> samples = new LinkedHashMap<>();
    private final Map<String, List<Double>> pairRatios = new LinkedHashMap<>();
    private final Map<String, String> missing = new LinkedHashMap<>();
    private final List<Launch> launches = new ArrayList<>();
    private final Map<String, String> launchMissing = new LinkedHashMap<>();
    private final Map<String, Map<String, String>> workerInfo = new LinkedHashMap<>();
    private final Map<Integer, Double> othersCpu = new LinkedHashMap<>();
    private final Map<String, List<Settle>> settles = new LinkedHashMap<>();
    private double leadInSeconds;
    private final Map<Integer, List<Double>> loads = new LinkedHashMap<>();
    private boolean failed;

    private final Map<Integer, List<Double>> capacities = new LinkedHashMap<>();

    /** The second core's capacity ({@link Machine#secondCoreCapacity}) at the start of a measured round. */
    void noteCapacity(int threads, double capacity) {
        capacities.computeIfAbsent(threads, k -> new ArrayList<>()).add(capacity);
    }

    Map<Integer, List<Double>> capacities() {
        return capacities;
    }

    /** Records the 1-minute load average seen at the start of a round with {@code threads} threads. */
    void noteLoad(int threads, double load) {
        loads.computeIfAbsent(threads, k -> new ArrayList<>()).add(load);
    }

    /** Load averages seen at the start of each round, per thread count. */
    Map<Integer, List<Double>> loads() {
        return loads;
    }

    private static String key(int threads, Case c, Case.Column column) {
        return threads + "|" + c.id() + "|" + column.label();
    }

    void add(int threads, Case c, Case.Column column, List<Long> nanos) {
        samples.computeIfAbsent(key(threads, c, column), k -> new ArrayList<>()).addAll(nanos);
    }

    /**
     * Samples of two columns timed in pairs (a.get(i) and b.get(i) back to back); the ratios a/b per pair are kept
     * too, under column {@code a}.
     */
    void addPairs(int threads, Case c, Case.Column a, Case.Column b, List<Long> aNanos, List<Long> bNanos) {
        add(threads, c, a, aNanos);
        add(threads, c, b, bNanos);
        addRatios(threads, c, a, aNanos, bNanos);
    }

    /**
     * Only the ratios a/b of calls timed in pairs (a.get(i) and b.get(i) back to back), under column {@code a} of
     * case {@code c}: a comparison whose samples stay out of the columns' own timings.
     */
    void addRatios(int threads, Case c, Case.Column a, List<Long> aNanos, List<Long> bNanos) {
        List<Double> ratios = pairRatios.computeIfAbsent(key(threads, c, a), k -> new ArrayList<>());
        for (int i = 0; i < aNanos.size(); i++) {
            ratios.add((double) aNanos.get(i) / bNanos.get(i));
        }
    }

    /** Nearest-rank percentile of the per-pair ratios recorded under column {@code a} by {@link #addPairs}. */
    Optional<Double> pairRatioPercentile(int threads, Case c, Case.Column a, double p) {
        List<Double> s = new ArrayList<>(pairRatios.getOrDefault(key(threads, c, a), List.of()));
        Collections.sort(s);
        return nearestRank(s, p);
    }

    /** Marks a column as not measurable ("n/a: why") or failed ("error: why"). */
    void markMissing(int threads, Case c, Case.Column column, String why, boolean error) {
        missing.put(key(threads, c, column), why);
        failed |= error;
    }

    boolean isMissing(int threads, Case c, Case.Column column) {
        return missing.containsKey(key(threads, c, column));
    }

    Optional<String> missingReason(int threads, Case c, Case.Column column) {
        return Optional.ofNullable(missing.get(key(threads, c, column)));
    }

    /** Sorted samples in nanoseconds (empty when none). */
    List<Long> sorted(int threads, Case c, Case.Column column) {
        List<Long> s = new ArrayList<>(samples.getOrDefault(key(threads, c, column), List.of()));
        Collections.sort(s);
        return s;
    }

    /** Median in milliseconds, if measured. */
    Optional<Double> medianMs(int threads, Case c, Case.Column column) {
        List<Long> s = sorted(threads, c, column);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        int n = s.size();
        double median = n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2.0;
        return Optional.of(median / 1e6);
    }

    /** Nearest-rank percentile in milliseconds. */
    Optional<Double> percentileMs(int threads, Case c, Case.Column column, double p) {
        return nearestRank(sorted(threads, c, column), p).map(nanos -> nanos / 1e6);
    }

    /** The nearest-rank p-th percentile of sorted values, if any. */
    private static <T> Optional<T> nearestRank(List<T> sorted, double p) {
        if (sorted.isEmpty()) {
            return Optional.empty();
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return Optional.of(sorted.get(Math.max(0, rank - 1)));
    }

    void addLaunch(Launch launch) {
        launches.add(launch);
    }

    void markLaunchMissing(String implementation, String why, boolean error) {
        launchMissing.put(implementation, why);
        failed |= error;
    }

    List<Launch> launches() {
        return launches;
    }

    Map<String, String> launchMissing() {
        return launchMissing;
    }

    /** Adds CPU seconds that paused workers used while another worker was measured at {@code threads}. */
    void noteOthersCpu(int threads, double seconds) {
        if (seconds >= 0) {
            othersCpu.merge(threads, seconds, Double::sum);
        }
    }

    /** Notes the untimed lead-in each turn of a case of many iterations started with. */
    void noteLeadIn(double seconds) {
        leadInSeconds = seconds;
    }

    double leadInSeconds() {
        return leadInSeconds;
    }

    /** How long one warm-up ran until its JVM's compilers were quiet ({@code quiet}) or it gave up. */
    record Settle(double seconds, boolean quiet) {
    }

    /** Notes the warm-up of one case on {@code worker} at {@code threads}. */
    void noteSettle(int threads, String worker, double seconds, boolean quiet) {
        settles.computeIfAbsent(worker + " at " + threads + " thread" + (threads == 1 ? "" : "s"),
                k -> new ArrayList<>()).add(new Settle(seconds, quiet));
    }

    /** The warm-ups per "worker at T threads", in the order they ran. */
    Map<String, List<Settle>> settles() {
        return settles;
    }

    /** CPU seconds used by paused workers while another was measured, per thread count. */
    Map<Integer, Double> othersCpu() {
        return othersCpu;
    }

    void putWorkerInfo(String worker, Map<String, String> info) {
        workerInfo.put(worker, info);
    }

    Map<String, Map<String, String>> workerInfo() {
        return workerInfo;
    }

    Map<String, List<Long>> allSamples() {
        return samples;
    }

    Map<String, String> allMissing() {
        return missing;
    }

    boolean failed() {
        return failed;
    }
}
