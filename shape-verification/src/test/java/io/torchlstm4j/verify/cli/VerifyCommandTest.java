package io.torchlstm4j.verify.cli;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.verify.BrokenLstms;
import io.torchlstm4j.verify.LayoutVerifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import picocli.CommandLine;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VerifyCommandTest {

    private static final String[] TUTORIAL = {"verify", "--input-size", "10", "--hidden-size", "20", "--num-layers",
            "2", "--bidirectional", "--seq-len", "5", "--batch", "3", "--engine", "reference"};

    @Test
    void theTutorialConfigurationPrintsItsShapesThenPassingChecks() {
        Cli.Result r = Cli.run(TUTORIAL).withoutStackTrace();

        assertEquals(0, r.exitCode(), r::err);
        List<String> lines = r.out().lines().toList();
        assertEquals(List.of("output shape: [5, 3, 40]", "hn shape: [4, 3, 20]", "cn shape: [4, 3, 20]"),
                lines.subList(0, 3));
        assertTrue(lines.stream().anyMatch(l -> l.matches(
                "tutorial slice = h_n +1 +forward +output\\[-1, :, :20] vs h_n\\[2] +\\S+ +PASS")), r::out);
        assertTrue(lines.stream().anyMatch(l -> l.matches(
                "tutorial slice = h_n +1 +backward +output\\[0, :, 20:] vs h_n\\[3] +\\S+ +PASS")), r::out);
        assertEquals(4, lines.stream().filter(l -> l.startsWith("final step = h_n")).count());
        assertEquals("all 12 checks passed", lines.get(lines.size() - 1));
        assertEquals("", r.err());
    }

    @Test
    void everyOptionTogetherRunsEveryCheck() {
        Cli.Result r = Cli.run("verify", "--input-size", "4", "--hidden-size", "6", "--num-layers", "2",
                "--batch-first", "--with-state", "--lengths", "5,3,2", "--dtype", "float64", "--seed", "3",
                "--no-bias", "--atol", "1e-9", "--engine", "REFERENCE").withoutStackTrace();

        assertEquals(0, r.exitCode(), r::err);
        assertTrue(r.out().startsWith("output shape: [3, 5, 6]\nhn shape: [2, 3, 6]\ncn shape: [2, 3, 6]\n"), r::out);
        assertTrue(r.out().contains("LSTM(4, 6, num_layers=2, bias=False, batch_first=True) on TorchLstm on engine "
                + "REFERENCE, float64, seed 3, lengths [5, 3, 2], atol 1.00e-09"), r::out);
        assertTrue(r.out().contains("output_l0[n, lengths[n]-1, :6] vs h_n[0, n]"), r::out);
        assertEquals(4, r.out().lines().filter(l -> l.startsWith("two chunks")).count(), r::out);
        assertTrue(r.out().contains("sample 2 alone (2 steps, unpadded) vs output[2] (zeros from t=2)"), r::out);
    }

    @Test
    void jsonHoldsTheShapesAndEveryCheck() throws Exception {
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(TUTORIAL), java.util.stream.Stream.of(
                "--json")).toArray(String[]::new);
        Cli.Result r = Cli.run(args).withoutStackTrace();

        assertEquals(0, r.exitCode(), r::err);
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals("LSTM(10, 20, num_layers=2, bidirectional=True)", json.get("module").asText());
        assertEquals("[5,3,40]", json.get("output_shape").toString());
        assertEquals("[4,3,20]", json.get("hn_shape").toString());
        assertEquals(12, json.get("checks").size());
        assertEquals("backward", json.get("checks").get(4).get("direction").asText());
        assertTrue(json.get("checks").get(0).get("max_abs_difference").isNull(), "a shape check has no difference");
        assertTrue(json.get("passed").asBoolean());
        assertEquals(1e-5, json.get("atol").asDouble());
    }

    @Test
    void aFailingCheckExitsWith1AndSaysWhichFailed() {
        // an LSTM whose h_n has its two top entries swapped: the layout bug the checks exist for
        LayoutVerifier broken = new LayoutVerifier("h_n swapped", BrokenLstms.swappedHn23());
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == VerifyCommand.class ? type.cast(new VerifyCommand(engine -> broken))
                        : CommandLine.defaultFactory().create(type);
            }
        };
        Cli.Result r = Cli.run(factory, TUTORIAL).withoutStackTrace();

        assertEquals(1, r.exitCode(), r::err);
        assertTrue(r.out().contains("4 of 12 checks FAILED"), r::out);
        assertTrue(r.out().lines().anyMatch(l -> l.matches("final step = h_n +1 +forward .* FAIL")), r::out);
        assertTrue(r.out().lines().anyMatch(l -> l.matches("final step = h_n +0 +forward .* PASS")), r::out);
    }

    @Test
    void projectionsPassOnTheFastEngine() {
        Cli.Result r = Cli.run("verify", "--input-size", "3", "--hidden-size", "5", "--proj-size", "2",
                "--num-layers", "2", "--bidirectional", "--with-state", "--lengths", "5,2,4", "--engine", "fast")
                .withoutStackTrace();

        assertEquals(0, r.exitCode(), r::out);
        assertTrue(r.out().startsWith("output shape: [5, 3, 4]\nhn shape: [4, 3, 2]\ncn shape: [4, 3, 5]\n"), r::out);
    }

    @Test
    void anEngineThatCannotRunTheConfigurationExitsWith4AndSaysWhy() {
        Cli.Result r = Cli.run("verify", "--input-size", "3", "--hidden-size", "5", "--proj-size", "2",
                "--engine", "reference").withoutStackTrace();

        assertEquals(4, r.exitCode(), r::out);
        assertTrue(r.err().startsWith("error: projSize=2 (LSTMP)"), r::err);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "verify --input-size 10|Missing required option: '--hidden-size=H'",
            "verify --input-size 10 --hidden-size 20 --lengths 5,3|--lengths has 2 values but --batch is 3",
            "verify --input-size 10 --hidden-size 20 --lengths 5,6,1|--lengths value 2 is 6 but every length must be in 1..--seq-len = 1..5",
            "verify --input-size 10 --hidden-size 0|Invalid LSTM options: hidden_size must be greater than zero",
            "verify --input-size 10 --hidden-size 20 --dtype float16|'float16' is not a dtype: float32 or float64 was expected",
            "verify --input-size 10 --hidden-size 20 --engine slow|Invalid value for option '--engine'",
            "verify --input-size 10 --hidden-size 20 --batch 0|--seq-len and --batch must be at least 1",
            "verify --input-size 10 --hidden-size 20 --atol -1|--atol must be a finite number >= 0, got -1.0",
            "verify --input-size ten --hidden-size 20|Invalid value for option '--input-size': 'ten' is not an int",
            "frobnicate|Unmatched argument at index 0: 'frobnicate'",
            "|Missing command: verify, compare, explain or network"})
    void usageErrorsExitWith2AndNameTheOption(String spec) {
        String[] parts = spec.split("\\|");
        String[] args = parts[0].isEmpty() ? new String[0] : parts[0].split(" ");
        Cli.Result r = Cli.run(args).withoutStackTrace();

        assertEquals(2, r.exitCode(), r::err);
        assertTrue(r.err().startsWith("error: "), r::err);
        assertTrue(r.err().contains(parts[1]), r::err);
        assertTrue(r.err().contains("hint: 'shape-verification" ) && r.err().contains(" --help' lists the options"), r::err);
        assertEquals("", r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "verify --help", "compare --help", "explain --help"})
    void everyCommandHasHelp(String args) {
        Cli.Result r = Cli.run(args.split(" ")).withoutStackTrace();

        assertEquals(0, r.exitCode());
        assertTrue(r.out().startsWith("Usage: shape-verification"), r::out);
        assertTrue(r.out().contains("Exit codes:"), r::out);
        for (ExitCode code : ExitCode.values()) {
            assertTrue(r.out().contains(String.format("%2d   %s", code.code(), code.meaning())), r::out);
        }
    }

    @Test
    void aBugExitsWith70WithItsStackTrace() {
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == VerifyCommand.class ? type.cast(new VerifyCommand(engine -> {
                    throw new IllegalStateException("a broken invariant");
                })) : CommandLine.defaultFactory().create(type);
            }
        };
        Cli.Result r = Cli.run(factory, TUTORIAL);

        assertEquals(70, r.exitCode(), r::err);
        assertTrue(r.err().startsWith("error: internal error (a bug, please report it with this output): "
                + "java.lang.IllegalStateException: a broken invariant"), r::err);
        assertTrue(r.err().contains("\tat "), r::err);
    }
}
