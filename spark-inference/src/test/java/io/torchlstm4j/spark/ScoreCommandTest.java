package io.torchlstm4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The score command: output written all or nothing, exit codes, messages without stack traces. */
class ScoreCommandTest {

    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path model;
    static String json;

    record Run(int exitCode, String out, String err) {
    }

    @BeforeAll
    static void data() throws IOException {
        spark = LocalSpark.session();
        model = dir.resolve("model.safetensors");
        SyntheticData.writeModel(model, SparkScoringTest.CONFIG, 3, 7);
        List<double[]> sequences = SyntheticData.sequences(20, SparkScoringTest.INPUT_SIZE, 1, 6, 3);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < sequences.size(); i++) {
            // one corrupt row (a step of 4 values) as row 7
            float[][] steps = SyntheticData.steps(sequences.get(i), SparkScoringTest.INPUT_SIZE);
            StringBuilder f = new StringBuilder("[");
            for (int t = 0; t < steps.length; t++) {
                f.append(t == 0 ? "[" : ",[");
                int n = i == 7 && t == 0 ? steps[t].length - 1 : steps[t].length;
                for (int k = 0; k < n; k++) f.append(k == 0 ? "" : ",").append((double) steps[t][k]);
                f.append(']');
            }
            lines.append("{\"id\":").append(i).append(",\"features\":").append(f).append("]}\n");
        }
        json = Files.writeString(dir.resolve("sequences.json"), lines).toString();
    }

    static Run score(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        String[] all = Stream.concat(Stream.of("score", "--model", model.toString(), "--format", "json",
                "--input", json, "--id-column", "id"), Stream.of(args)).toArray(String[]::new);
        return new Run(cl.execute(all), out.toString(), err.toString());
    }

    static List<String> listing() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aCorruptRowFailsWithExitCode1NamingItAndLeavesNoOutput() throws IOException {
        Run run = score("--output", dir.resolve("failed").toString());
        assertEquals(1, run.exitCode());
        assertEquals("error: row 7 of partition 0 (file " + Path.of(json).toUri() + ") (id = 7): features[0] has 4 values but "
                + "input_size = 5 was expected\n", run.err());
        assertEquals(List.of("model.safetensors", "sequences.json"), listing());
    }

    @Test
    void skipWritesTheOtherRowsAndCountsTheSkippedOne() throws IOException {
        Path output = dir.resolve("skipped");
        Run run = score("--output", output.toString(), "--on-error", "skip");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("scored 19 rows, skipped 1 {NULL=0, SHAPE=1, NON_FINITE=0, TOO_LONG=0, "
                + "NOT_A_NUMBER=0}"), run.out());
        List<Row> rows = spark.read().parquet(output.toString()).collectAsList();
        assertEquals(19, rows.size());
        assertFalse(rows.stream().anyMatch(r -> r.getLong(0) == 7));
        assertFalse(listing().stream().anyMatch(name -> name.contains("incomplete")), listing().toString());

        Run again = score("--output", output.toString(), "--on-error", "skip");
        assertEquals(1, again.exitCode());
        assertEquals("error: --output " + output + " exists already: remove it or choose another\n", again.err());
    }
}
