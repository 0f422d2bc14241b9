package io.torchlstm4j.fuzz;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/**
 * Every reader of the library under mutation fuzzing: each input is read or refused with a TensorFileException
 * naming the file; nothing else (no Error, no other exception, no hang). The suite runs a few hundred inputs per
 * reader; {@code tools/fuzz.sh} runs 100,000 under {@code -Xmx512m}.
 */
class ReaderFuzzTest {

    static List<FuzzTarget> targets() {
        return ReaderTargets.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void everyInputIsReadOrRefusedWithTheLibrarysException(FuzzTarget target) {
        FuzzRunner.assertReadOrRefused(target);
    }
}
