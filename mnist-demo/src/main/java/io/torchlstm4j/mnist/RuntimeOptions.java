package io.torchlstm4j.mnist;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.engine.Engines;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;
import picocli.CommandLine.Option;

/** {@code --threads} and {@code --engine}, shared by the commands. */
final class RuntimeOptions {

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for the BLAS (default: OMP_NUM_THREADS when set, else the machine's processors, "
                    + "or 1 with --workers above 1). The fast engine runs the model's two layers as a wavefront on "
                    + "two of them, with the same results as on one. ND4J's OpenMP loops get them too only when "
                    + "OMP_WAIT_POLICY=PASSIVE is set; otherwise they stay on one thread, since OpenMP's idle threads "
                    + "spin after every DL4J op and take the second core from the LSTM. Applied at start-up through "
                    + "ND4J's API; no environment variable is needed.")
    Integer threads;

    @Option(names = "--engine", paramLabel = "fast|reference",
            description = "LSTM engine: fast (our layer) or reference (DL4J's stock LSTM layers). "
                    + "Default: the library's default engine.")
    Engine engine;

    /**
     * Applies --threads (or its default: OMP_NUM_THREADS, else the available processors) on the calling thread, which
     * must be the one that trains or evaluates; returns the number of threads the BLAS now uses.
     *
     * <p>ND4J's loops run in libgomp, whose idle threads spin (busy-wait) after each parallel region unless
     * OMP_WAIT_POLICY=PASSIVE was set before the JVM started; a DL4J training step runs dozens of small ops, so a
     * second OpenMP thread spins most of the step and takes the core the LSTM's BLAS would use (measured in
     * docs/performance.md). Both ND4J's own count ({@code maxMasterThreads}) and OpenMP's count for this thread
     * ({@code omp_set_num_threads}, through {@code setOmpNumThreads}) are set: ND4J's alone leaves OpenMP's
     * default team of one thread per core.
     */
    int applyThreads() {
        return applyThreads(Runtime.getRuntime().availableProcessors());
    }

    /** As {@link #applyThreads()}, with {@code unset} threads where neither --threads nor OMP_NUM_THREADS says. */
    int applyThreads(int unset) {
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        int n = threads != null ? threads : threadsFromEnvironment(unset);
        int loops = "PASSIVE".equalsIgnoreCase(String.valueOf(System.getenv("OMP_WAIT_POLICY")).trim()) ? n : 1;
        Nd4j.getEnvironment().setMaxThreads(loops);
        Nd4j.getEnvironment().setMaxMasterThreads(loops);
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(loops);
        Nd4j.factory().blas().setMaxThreads(n);
        return n;
    }

    /** OMP_NUM_THREADS when it is a positive number, else {@code unset}. */
    private static int threadsFromEnvironment(int unset) {
        try {
            return Math.max(1, Integer.parseInt(String.valueOf(System.getenv("OMP_NUM_THREADS")).trim()));
        } catch (NumberFormatException e) {
            return Math.max(1, unset);
        }
    }

    /** The engine asked for, or the library's default for this configuration. */
    Engine engineFor(LstmConfig config) {
        return engine != null ? engine : Engines.defaultFor(config);
    }
}
