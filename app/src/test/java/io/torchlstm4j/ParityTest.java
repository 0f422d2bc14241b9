package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.weights.ParityFixture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static io.torchlstm4j.NumericAssertions.assertClose;
import static io.torchlstm4j.NumericAssertions.forwardTolerance;
import static io.torchlstm4j.NumericAssertions.gradientTolerance;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every PyTorch fixture (written by {@code tools/generate_fixtures.py} with torch 1.13) on every engine: output,
 * h_n and c_n within 1e-5 (float32) / 1e-10 (float64); where the fixture records PyTorch's gradients of
 * {@code (output * grad_output).sum()}, every parameter's gradient within 1e-4 / 1e-9.
 *
 * <p>Where an engine cannot run a fixture (the reference engine with projSize &gt; 0, or its gradients from a
 * given (h0, c0)), it must say so with an UnsupportedOperationException, never return a wrong answer.
 */
class ParityTest {

    static Path fixtureDir() {
        try {
            return Path.of(ParityTest.class.getResource("/fixtures").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<String> fixtureNames() {
        try (Stream<Path> files = Files.list(fixtureDir())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors"))
                    .map(n -> n.substring(0, n.length() - ".safetensors".length())).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ParityFixture fixture(String name) {
        try {
            return ParityFixture.read(fixtureDir().resolve(name + ".safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<Arguments> fixturesAndEngines() {
        List<Arguments> args = new ArrayList<>();
        for (String name : fixtureNames()) {
            for (Engine engine : Engine.values()) {
                args.add(Arguments.of(name, engine));
            }
        }
        return args.stream();
    }

    static Stream<Arguments> gradientFixturesAndEngines() {
        return fixturesAndEngines().filter(a -> fixture((String) a.get()[0]).outputGradient() != null);
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("fixturesAndEngines")
    void forwardMatchesPyTorch(String name, Engine engine) {
        ParityFixture f = fixture(name);
        String context = name + " on " + engine;
        List<String> reason = unsupportedReason(f, engine, false);
        if (reason != null) {
            assertUnsupported(context, reason,
                    () -> lstmOf(f, engine).forward(f.input(), f.initialState(), f.lengths()));
            return;
        }
        TorchLstm lstm = lstmOf(f, engine);
        LstmOutput out = lstm.forward(f.input(), f.initialState(), f.lengths());
        double tol = forwardTolerance(f.dataType());
        assertAll(
                () -> assertClose(context, "output", f.expected().output(), out.output(), tol),
                () -> assertClose(context, "h_n", f.expected().hN(), out.hN(), tol),
                () -> assertClose(context, "c_n", f.expected().cN(), out.cN(), tol));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("gradientFixturesAndEngines")
    void gradientsMatchPyTorch(String name, Engine engine) {
        ParityFixture f = fixture(name);
        String context = name + " on " + engine;
        List<String> reason = unsupportedReason(f, engine, true);
        if (reason != null) {
            assertUnsupported(context, reason,
                    () -> lstmOf(f, engine).gradients(f.input(), f.initialState(), f.lengths(), f.outputGradient()));
            return;
        }
        TorchLstm lstm = lstmOf(f, engine);
        Map<String, INDArray> grads = lstm.gradients(f.input(), f.initialState(), f.lengths(), f.outputGradient());
        assertEquals(f.expectedGradients().keySet(), grads.keySet(), context + ": gradient names");
        double tol = gradientTolerance(f.dataType());
        assertAll(f.expectedGradients().entrySet().stream().map(e -> () ->
                assertClose(context, "grad_" + e.getKey(), e.getValue(), grads.get(e.getKey()), tol)));
    }

    /** As the brief prescribes: the fixture's configuration and weights, on {@code engine}, in eval mode. */
    private static TorchLstm lstmOf(ParityFixture f, Engine engine) {
        return TorchLstm.fromStateDict(f.config(), engine, f.stateDict()).eval();
    }

    /** Words of which the engine's refusal must contain one, or null when the engine must run the fixture. */
    private static List<String> unsupportedReason(ParityFixture f, Engine engine, boolean gradients) {
        if (engine != Engine.REFERENCE) {
            return null;
        }
        if (f.config().projSize() > 0) {
            return List.of("proj");
        }
        if (gradients && f.initialState() != null) {
            return List.of("state", "h0");
        }
        return null;
    }

    private static void assertUnsupported(String context, List<String> reasonWords, Supplier<?> call) {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, call::get,
                context + " must refuse with UnsupportedOperationException");
        assertNotNull(e.getMessage(), context + ": the refusal must say why");
        String message = e.getMessage().toLowerCase(Locale.ROOT);
        assertTrue(reasonWords.stream().anyMatch(message::contains),
                context + ": the refusal must mention one of " + reasonWords + " but says: " + e.getMessage());
    }
}
