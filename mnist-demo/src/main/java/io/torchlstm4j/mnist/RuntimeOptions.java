package io.torchlstm4j.mnist;

import io.torchlstm4j.Engine;
import io.torchlstm4j.LstmConfig;
import io.torchlstm4j.engine.Engines;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Option;

/** {@code --threads} and {@code --engine}, shared by the commands. */
final class RuntimeOptions {

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads for ND4J's loops and its BLAS (default: OMP_NUM_THREADS when set, else 1: this "
                    + "model's matrices are too small for more threads to pay). Applied at start-up through ND4J's "
                    + "API; no environment variable is needed.")
    Integer threads;

    @Option(names = "--engine", paramLabel = "fast|reference",
            description = "LSTM engine: fast (our layer) or reference (DL4J's stock LSTM layers). "
                    + "Default: the library's default engine.")
    Engine engine;

    /**
     * Applies --threads (or its default); returns the number of threads ND4J's loops now use
     * ({@code maxMasterThreads}: in M2.1 {@code Environment.maxThreads()} keeps reporting the start-up value even
     * after {@code setMaxThreads}).
     */
    int applyThreads() {
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        Integer n = threads != null ? threads : System.getenv("OMP_NUM_THREADS") == null ? Integer.valueOf(1) : null;
        if (n != null) {
            Nd4j.getEnvironment().setMaxThreads(n);
            Nd4j.getEnvironment().setMaxMasterThreads(n);
            Nd4j.factory().blas().setMaxThreads(n);
        }
        return Nd4j.getEnvironment().maxMasterThreads();
    }

    /** The engine asked for, or the library's default for this configuration. */
    Engine engineFor(LstmConfig config) {
        return engine != null ? engine : Engines.defaultFor(config);
    }
}
