package io.torchlstm4j.spark;

import io.torchlstm4j.core.Engine;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A row that cannot be scored fails the job naming it, or is skipped and counted: never a wrong answer. */
class ErrorPolicyTest {

    static final int INPUT_SIZE = SparkScoringTest.INPUT_SIZE;
    static final int MAX_LENGTH = 12;
    /** Nullable at every level, so that null features and null values can be written. */
    static final StructType SCHEMA = DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.LongType, false),
            DataTypes.createStructField("features", DataTypes.createArrayType(
                    DataTypes.createArrayType(DataTypes.FloatType, true), true), true)));

    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path model;
    static List<double[]> sequences;

    @BeforeAll
    static void start() throws IOException {
        spark = LocalSpark.session();
        model = dir.resolve("model.safetensors");
        SyntheticData.writeModel(model, SparkScoringTest.CONFIG, 3, 7);
        sequences = SyntheticData.sequences(10, INPUT_SIZE, 1, MAX_LENGTH, 5);
    }

    static ScoringOptions options(ErrorPolicy onError) {
        return new ScoringOptions("features", "id", "rnn.", "out.", Engine.FAST, 4, MAX_LENGTH, onError, false);
    }

    /** Rows 0..9, good, except those named in {@code corrupt} (by id), one partition. */
    static Dataset<Row> rows(List<String> corrupt) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < sequences.size(); i++) {
            Object features = SyntheticData.steps(sequences.get(i), INPUT_SIZE);
            if (corrupt.contains("shape-" + i)) {
                features = new float[][] {new float[INPUT_SIZE], new float[INPUT_SIZE], new float[INPUT_SIZE - 1]};
            } else if (corrupt.contains("nan-" + i)) {
                float[][] steps = SyntheticData.steps(sequences.get(i), INPUT_SIZE);
                steps[0][1] = Float.NaN;
                features = steps;
            } else if (corrupt.contains("null-" + i)) {
                features = null;
            } else if (corrupt.contains("null-value-" + i)) {
                features = new Float[][] {{1f, 2f, null, 4f, 5f}};
            } else if (corrupt.contains("long-" + i)) {
                features = new float[MAX_LENGTH + 1][INPUT_SIZE];
            }
            rows.add(RowFactory.create((long) i, features));
        }
        return spark.createDataFrame(rows, SCHEMA).coalesce(1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "shape-3|row 3 of partition 0 (id = 3): features[2] has 4 values but input_size = 5 was expected",
            "nan-5|row 5 of partition 0 (id = 5): features[0][1] is NaN but a finite number was expected",
            "null-6|row 6 of partition 0 (id = 6): features is null",
            "null-value-2|row 2 of partition 0 (id = 2): features[0][2] is null",
            "long-8|row 8 of partition 0 (id = 8): features has 13 steps but at most --max-length = 12 are accepted"})
    void aCorruptRowFailsTheJobNamingTheRow(String corrupt, String message) throws IOException {
        LstmScorer.Scored scored = LstmScorer.score(rows(List.of(corrupt)), model, options(ErrorPolicy.FAIL));
        Exception e = assertThrows(Exception.class, () -> scored.predictions().collectAsList());
        CorruptRowException row = Failures.corruptRow(e);
        assertNotNull(row, "no row error in " + e);
        assertEquals(message, row.getMessage());
    }

    @Test
    void skippedRowsAreCountedByProblemAndTheOthersScoredAsWithoutThem() throws IOException {
        List<String> corrupt = List.of("shape-3", "nan-5", "null-6", "long-8");
        LstmScorer.Scored skipped = LstmScorer.score(rows(corrupt), model, options(ErrorPolicy.SKIP));
        List<Row> kept = skipped.predictions().collectAsList();
        assertEquals(Map.of(RowProblem.NULL, 1L, RowProblem.SHAPE, 1L, RowProblem.NON_FINITE, 1L,
                RowProblem.TOO_LONG, 1L, RowProblem.NOT_A_NUMBER, 0L), skipped.counts().skipped());
        assertEquals(6, skipped.counts().scored());
        assertEquals(4, skipped.counts().examples().size());
        System.out.println("skip: scored " + skipped.counts().scored() + ", skipped " + skipped.counts().skipped()
                + "; e.g. " + skipped.counts().examples().get(0));

        Dataset<Row> good = rows(List.of()).where("id not in (3, 5, 6, 8)");
        List<Row> clean = LstmScorer.score(good, model, options(ErrorPolicy.FAIL)).predictions().collectAsList();
        assertEquals(clean.size(), kept.size());
        for (int i = 0; i < clean.size(); i++) {
            assertEquals(clean.get(i).getLong(0), kept.get(i).getLong(0));
            assertArrayEquals(SparkScoringTest.doubles(clean.get(i), "logits"),
                    SparkScoringTest.doubles(kept.get(i), "logits"), 0.0, "row " + kept.get(i).getLong(0));
        }
    }
}
