package io.torchlstm4j.verify.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExplainCommandTest {

    @Test
    void threeBidirectionalLayersMapEveryHnIndex() {
        Cli.Result r = Cli.run("explain", "--num-layers", "3", "--bidirectional").withoutStackTrace();

        assertEquals(0, r.exitCode(), r::err);
        List<String> rows = r.out().lines().filter(l -> l.matches("\\d .*")).toList();
        assertEquals(6, rows.size(), r::out);
        String[][] expected = {
                {"0", "0", "forward", "L-1", "-"},
                {"1", "0", "backward", "0", "-"},
                {"2", "1", "forward", "L-1", "-"},
                {"3", "1", "backward", "0", "-"},
                {"4", "2", "forward", "L-1", "output[-1, :, :H]"},
                {"5", "2", "backward", "0", "output[0, :, H:]"}};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(List.of(expected[i]), List.of(rows.get(i).split(" {2,}")), rows.get(i));
        }
        assertTrue(r.out().contains("h_n: (num_layers * D, N, H) = (6, N, H)"), r::out);
    }

    @Test
    void concreteSizesBatchFirstAndPackedSequencesChangeTheSlices() {
        Cli.Result r = Cli.run("explain", "--num-layers", "2", "--bidirectional", "--hidden-size", "20",
                "--seq-len", "5", "--batch-first", "--packed").withoutStackTrace();

        assertEquals(0, r.exitCode(), r::err);
        assertTrue(r.out().lines().anyMatch(l -> l.matches("2 +1 +forward +lengths\\[n]-1 +output\\[n, lengths\\[n]-1, :20]")),
                r::out);
        assertTrue(r.out().lines().anyMatch(l -> l.matches("3 +1 +backward +0 +output\\[:, 0, 20:]")), r::out);
        assertTrue(r.out().contains("output: (N, 5, 2 * 20)"), r::out);
    }

    @Test
    void aUnidirectionalLstmWithProjectionUsesProjSizeForHAndOutput() {
        Cli.Result r = Cli.run("explain", "--hidden-size", "20", "--proj-size", "8", "--seq-len", "5")
                .withoutStackTrace();

        assertEquals(0, r.exitCode(), r::err);
        assertTrue(r.out().lines().anyMatch(l -> l.matches("0 +0 +forward +4 +output\\[-1, :, :8]")), r::out);
        assertTrue(r.out().contains("h_n: (num_layers * D, N, 8) = (1, N, 8), c_n: (1, N, 20)"), r::out);
    }

    @Test
    void impossibleSizesAreUsageErrors() {
        Cli.Result r = Cli.run("explain", "--num-layers", "0").withoutStackTrace();
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--num-layers must be at least 1"), r::err);

        Cli.Result proj = Cli.run("explain", "--hidden-size", "8", "--proj-size", "8").withoutStackTrace();
        assertEquals(2, proj.exitCode());
        assertTrue(proj.err().contains("--proj-size 8 must be smaller than --hidden-size 8"), proj::err);
    }
}
