package io.torchlstm4j;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        assertEquals("2", System.getenv("OMP_NUM_THREADS"), "this test must run in the two-threads execution");
        new ParityTest().forwardMatchesPyTorch(name, Engine.FAST);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradientFixtureNames")
    void gradientsMatchPyTorch(String name) {
        new ParityTest().gradientsMatchPyTorch(name, Engine.FAST);
    }
}
