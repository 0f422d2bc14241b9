package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/**
 * The FAST engine with two BLAS/ND4J threads (its own surefire execution, OMP_NUM_THREADS=2): the step loops then
 * switch OpenBLAS to one thread and back, the big GEMMs use both, and every PyTorch fixture must still match.
 */
class TwoThreadsTest {

    static List<String> fixtureNames() {
        return ParityTest.fixtureNames();
    }

    static List<String> gradientFixtureNames() {
        return fixtureNames().stream().filter(name -> ParityTest.fixture(name).outputGradient() != null).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtureNames")
    void forwardMatchesPyTorch(String name) {
        twoThreads();
        new ParityTest().forwardMatchesPyTorch(name, Engine.FAST);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientFixtureNames")
    void gradientsMatchPyTorch(String name) {
        twoThreads();
        new ParityTest().gradientsMatchPyTorch(name, Engine.FAST);
    }

    /** Skips outside the two-threads execution (e.g. under -Dtest=TwoThreadsTest, which runs it in both). */
    private static void twoThreads() {
        Assumptions.assumeTrue("2".equals(System.getenv("OMP_NUM_THREADS")),
                "runs in the surefire execution 'two-threads' (OMP_NUM_THREADS=2)");
    }
}
