package io.torchlstm4j.engine.fast;

import org.nd4j.linalg.factory.Nd4j;

import java.util.Optional;

/**
 * The fast engine's refusal on ND4J backends other than the CPU one: it calls OpenBLAS on the arrays' host memory,
 * which a GPU backend (e.g. CUDA) does not keep there. Stateless; safe for concurrent use.
 */
final class CpuBackendOnly {

    /** ND4J's CPU backend (nd4j-native). */
    static final String CPU_BACKEND = "org.nd4j.linalg.cpu.nativecpu.CpuBackend";

    private CpuBackendOnly() {
    }

    /** Throws {@link UnsupportedOperationException} unless ND4J runs on its CPU backend. */
    static void require() {
        Optional<String> refusal = refusal(Nd4j.getBackend().getClass().getName());
        if (refusal.isPresent()) {
            throw new UnsupportedOperationException(refusal.get());
        }
    }

    /** Why the fast engine cannot run on the backend of this class, or empty for the CPU backend. */
    static Optional<String> refusal(String backendClassName) {
        if (CPU_BACKEND.equals(backendClassName)) {
            return Optional.empty();
        }
        return Optional.of("Engine.FAST runs on ND4J's CPU backend (nd4j-native) only, but ND4J runs on "
                + backendClassName + ": the fast engine calls OpenBLAS on host memory. Use Engine.REFERENCE "
                + "(DL4J's own LSTM layers), which runs on any ND4J backend");
    }
}
