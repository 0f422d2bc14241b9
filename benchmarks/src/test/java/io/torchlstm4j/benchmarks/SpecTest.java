package io.torchlstm4j.benchmarks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpecTest {

    static Stream<Spec> specs() {
        return Case.all().stream().flatMap(c -> c.columns().stream().map(col -> c.spec().with(col.kind(), col.variant())));
    }

    @ParameterizedTest
    @MethodSource("specs")
    void wordsParseBackToTheSameSpec(Spec spec) {
        assertEquals(spec, Spec.parse(spec.words()));
    }

    @Test
    void parseIgnoresTheIterationCount() {
        List<String> words = new ArrayList<>(Case.mnist("classifier_train").words());
        words.add("iters=7");
        assertEquals(Case.mnist("classifier_train"), Spec.parse(words));
    }

    @Test
    void parseNamesAMissingKey() {
        List<String> words = new ArrayList<>(Case.mnist("classifier_train").words());
        words.removeIf(w -> w.startsWith("hidden="));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Spec.parse(words));
        assertTrue(e.getMessage().startsWith("missing hidden=..."), e.getMessage());
    }

    @Test
    void trainingStepCountsThreeTimesTheForwardFlops() {
        Case forward = Case.all().stream().filter(c -> c.id().equals("large_forward")).findFirst().orElseThrow();
        Case train = Case.all().stream().filter(c -> c.id().equals("large_train")).findFirst().orElseThrow();
        assertEquals(3 * forward.lstmFlops(), train.lstmFlops(), 1e-6);
    }

    @Test
    void bidirectionalDoublesTheFirstLayerAndWidensTheSecondLayersInput() {
        Spec one = new Spec("lstm_forward", "-", 10, 20, 2, false, false, false, 5, 3, 10, 0.01);
        Spec two = new Spec("lstm_forward", "-", 10, 20, 2, true, false, false, 5, 3, 10, 0.01);
        double uni = new Case("u", "u", one, 1, 1, 1, false, false).lstmFlops();
        double bi = new Case("b", "b", two, 1, 1, 1, false, false).lstmFlops();
        // layer 0 doubles (two directions); layer 1 doubles and its input grows from H to 2H
        double perUnitLayer0 = 2.0 * 5 * 3 * 4 * 20 * (10 + 20);
        assertEquals(2 * perUnitLayer0 + 2 * (perUnitLayer0 / (10 + 20)) * (40 + 20), bi, 1e-6);
        assertEquals(perUnitLayer0 + perUnitLayer0 / (10 + 20) * (20 + 20), uni, 1e-6);
    }
}
