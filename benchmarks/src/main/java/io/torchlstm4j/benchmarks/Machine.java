package io.torchlstm4j.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The machine the benchmark runs on, from {@code /proc/cpuinfo}, and an estimate of its peak fp32 rate.
 *
 * <p>Peak per core = clock x FLOP per cycle, with FLOP per cycle from the instruction-set flags assuming two
 * FMA pipes (as on current AMD Zen and Intel server cores): AVX2 + FMA = 2 pipes x 8 lanes x 2 = 32;
 * AVX-512F = 2 x 16 x 2 = 64 (true only where 512-bit FMAs are not split, e.g. Zen 5 or Intel server cores with
 * two 512-bit units); AVX without FMA = 16; otherwise 8. The clock is {@code cpu MHz} of /proc/cpuinfo (the
 * nominal clock a VM reports; boost clocks are invisible there), so the estimate is approximate.
 *
 * @param model       CPU model name
 * @param family      CPU family (decimal, as /proc/cpuinfo gives it)
 * @param cores       logical CPUs online
 * @param mhz         reported clock
 * @param flags       instruction-set flags
 */
record Machine(String model, String family, int cores, double mhz, Set<String> flags) {

    static Machine detect() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
        return new Machine(field(lines, "model name"), field(lines, "cpu family"),
                Runtime.getRuntime().availableProcessors(), Double.parseDouble(field(lines, "cpu MHz")),
                new HashSet<>(Arrays.asList(field(lines, "flags").split("\\s+"))));
    }

    /** Iterations of {@link #arithmetic} per timing of {@link #secondCoreCapacity}. */
    private static final long WORK = 100_000_000L;
    /** Keeps the arithmetic's result alive. */
    private static volatile float sink;

    /**
     * How much of a second core this process gets now: the wall time of two threads doing the same fixed arithmetic
     * at once over the time of one doing it alone (best of three each, about 50 ms a try). 1.0: a second core is
     * free; 2.0: the two threads share one core (other processes hold the rest).
     */
    static double secondCoreCapacity() throws InterruptedException {
        arithmetic(WORK / 10);
        long one = Long.MAX_VALUE;
        long two = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            arithmetic(WORK);
            one = Math.min(one, System.nanoTime() - start);
            Thread other = new Thread(() -> arithmetic(WORK));
            start = System.nanoTime();
            other.start();
            arithmetic(WORK);
            other.join();
            two = Math.min(two, System.nanoTime() - start);
        }
        return (double) two / one;
    }

    /** Fused multiply-adds on a thread's own 16 KiB array (no memory traffic between the threads). */
    private static void arithmetic(long n) {
        float[] v = new float[4096];
        for (long i = 0; i < n; i++) {
            int k = (int) (i & 4095);
            v[k] = Math.fma(v[k], 0.999f, 1.0f);
        }
        sink = v[(int) (n & 4095)];
    }

    /** The 1-minute load average (other processes competing for the cores show here). */
    static double loadAverage() throws IOException {
        return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
    }

    private static String field(List<String> lines, String name) throws IOException {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
                return line.substring(colon + 1).trim();
            }
        }
        throw new IOException("no '" + name + "' in /proc/cpuinfo");
    }

    /** fp32 FLOP per cycle per core with AVX2 + FMA (0 without them). */
    int avx2FlopsPerCycle() {
        return flags.contains("avx2") && flags.contains("fma") ? 32 : 0;
    }

    /** fp32 FLOP per cycle per core with AVX-512 (0 without it). */
    int avx512FlopsPerCycle() {
        return flags.contains("avx512f") ? 64 : 0;
    }

    /** The widest vector ISA's FLOP per cycle per core. */
    int bestFlopsPerCycle() {
        if (avx512FlopsPerCycle() > 0) {
            return avx512FlopsPerCycle();
        }
        if (avx2FlopsPerCycle() > 0) {
            return avx2FlopsPerCycle();
        }
        return flags.contains("avx") ? 16 : 8;
    }

    /** Estimated peak GFLOP/s on {@code threads} cores at {@code flopsPerCycle}. */
    double peakGflops(int threads, int flopsPerCycle) {
        return threads * mhz / 1000.0 * flopsPerCycle;
    }

    String describe() {
        return String.format(Locale.ROOT, "%s (CPU family %s), %d logical CPUs, %.0f MHz reported; %s",
                model, family, cores, mhz, isas());
    }

    private String isas() {
        StringBuilder s = new StringBuilder();
        for (String isa : List.of("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni")) {
            if (flags.contains(isa)) {
                s.append(s.length() == 0 ? "" : ", ").append(isa);
            }
        }
        return s.length() == 0 ? "no AVX2/AVX-512" : s.toString();
    }
}
