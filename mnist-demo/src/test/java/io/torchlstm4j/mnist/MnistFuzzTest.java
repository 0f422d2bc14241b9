package io.torchlstm4j.mnist;

import io.torchlstm4j.fuzz.FuzzReport;
import io.torchlstm4j.fuzz.FuzzRunner;
import io.torchlstm4j.fuzz.FuzzTarget;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
        assumeTrue(FuzzRunner.selected(target), "not in fuzz.targets");
        FuzzReport report = FuzzRunner.runConfigured(target);
        assertEquals(0, report.others(), report.summary(20));
        assertTrue(report.successes() > 0 && report.refused() > 0,
                "the mutations reach both outcomes: " + report.summary(5));
    }
}
