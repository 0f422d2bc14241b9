package io.torchlstm4j.mnist;

import io.torchlstm4j.fuzz.FuzzRunner;
import io.torchlstm4j.fuzz.FuzzTarget;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

/**
 * The IDX and image readers under the library's fuzzing harness: each input is read or refused with a
 * DataException naming the file; nothing else. A few hundred inputs each here; {@code tools/fuzz.sh} runs
 * 100,000 under {@code -Xmx512m}.
 */
class MnistFuzzTest {

    static List<FuzzTarget> targets() {
        return MnistTargets.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void everyInputIsReadOrRefusedWithADataException(FuzzTarget target) {
        FuzzRunner.assertReadOrRefused(target);
    }
}
