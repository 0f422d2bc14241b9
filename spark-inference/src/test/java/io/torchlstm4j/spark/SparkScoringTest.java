package io.torchlstm4j.spark;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.weights.StateDicts;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scoring job in local[2] against the single-machine library, row by row, bit for bit. */
class SparkScoringTest {

    static final int INPUT_SIZE = 5;
    static final LstmConfig CONFIG = LstmConfig.builder(INPUT_SIZE, 8).numLayers(2).batchFirst(true).build();
    static final int ROWS = 240;

    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path model;
    static List<double[]> sequences;
    static String parquet;

    @BeforeAll
    static void start() throws IOException {
        spark = LocalSpark.session();
        model = dir.resolve("model.safetensors");
        SyntheticData.writeModel(model, CONFIG, 3, 7);
        sequences = SyntheticData.sequences(ROWS, INPUT_SIZE, 1, 12, 11);
        parquet = dir.resolve("sequences.parquet").toString();
        spark.createDataFrame(SyntheticData.rows(sequences, INPUT_SIZE), SyntheticData.SCHEMA).repartition(6)
                .write().parquet(parquet);
    }

    static ScoringOptions options(int batchSize, ErrorPolicy onError, boolean finalState) {
        return new ScoringOptions("features", "id", "rnn.", "out.", Engine.FAST, batchSize, 12, onError, finalState);
    }

    /**
     * The single-machine library on the same batches as the job: each partition's rows (as Spark reads them) in
     * order, in batches of {@code batchSize}, through {@link SequenceClassifier#predict} in this process.
     */
    static Map<Long, SequenceClassifier.Scores> singleMachine(int batchSize) throws IOException {
        SequenceClassifier classifier = SequenceClassifier.load(model, "rnn.", "out.", Engine.FAST);
        Map<Integer, List<Long>> partitions = new TreeMap<>();
        for (Row r : spark.read().parquet(parquet).select(functions.spark_partition_id(), functions.col("id"))
                .collectAsList()) {
            partitions.computeIfAbsent(r.getInt(0), p -> new ArrayList<>()).add(r.getLong(1));
        }
        Map<Long, SequenceClassifier.Scores> scores = new HashMap<>();
        for (List<Long> ids : partitions.values()) {
            for (int from = 0; from < ids.size(); from += batchSize) {
                List<Long> batch = ids.subList(from, Math.min(ids.size(), from + batchSize));
                List<double[]> input = new ArrayList<>();
                batch.forEach(id -> input.add(sequences.get(Math.toIntExact(id))));
                SequenceClassifier.Scores s = classifier.predict(input, true);
                for (int i = 0; i < batch.size(); i++) {
                    scores.put(batch.get(i), new SequenceClassifier.Scores(new double[][] {s.logits()[i]},
                            new int[] {s.predictions()[i]}, new double[][][] {s.hN()[i]}, new double[][][] {s.cN()[i]}));
                }
            }
        }
        return scores;
    }

    static Map<Long, Row> byId(Dataset<Row> predictions) {
        Map<Long, Row> rows = new HashMap<>();
        for (Row r : predictions.collectAsList()) {
            rows.put(r.getLong(0), r);
        }
        return rows;
    }

    static double[] doubles(Row row, String column) {
        List<Float> values = row.getList(row.fieldIndex(column));
        return values.stream().mapToDouble(Float::doubleValue).toArray();
    }

    static double[][] matrix(Row row, String column) {
        List<scala.collection.Seq<Float>> rows = row.getList(row.fieldIndex(column));
        double[][] m = new double[rows.size()][];
        for (int r = 0; r < m.length; r++) {
            scala.collection.Seq<Float> v = rows.get(r);
            m[r] = new double[v.length()];
            for (int c = 0; c < m[r].length; c++) m[r][c] = v.apply(c);
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16, 64})
    void predictionsAndFinalStatesEqualTheSingleMachineLibrarysBitForBit(int batchSize) throws IOException {
        Map<Long, SequenceClassifier.Scores> expected = singleMachine(batchSize);
        LstmScorer.Scored scored = LstmScorer.score(spark.read().parquet(parquet), model,
                options(batchSize, ErrorPolicy.FAIL, true));
        Map<Long, Row> rows = byId(scored.predictions());
        assertEquals(ROWS, rows.size());
        int identical = 0;
        for (Map.Entry<Long, SequenceClassifier.Scores> e : expected.entrySet()) {
            Row row = rows.get(e.getKey());
            SequenceClassifier.Scores s = e.getValue();
            assertArrayEquals(s.logits()[0], doubles(row, "logits"), 0.0, "logits of row " + e.getKey());
            assertEquals(s.predictions()[0], row.getInt(row.fieldIndex("prediction")), "prediction of row " + e.getKey());
            assertArrayEquals(s.hN()[0], matrix(row, "h_n"), "h_n of row " + e.getKey());
            assertArrayEquals(s.cN()[0], matrix(row, "c_n"), "c_n of row " + e.getKey());
            identical++;
        }
        assertEquals(ROWS, scored.counts().scored());
        assertEquals(0, scored.counts().skippedTotal());
        System.out.printf("batch %d: %d of %d rows bit-identical to the single-machine library (logits, prediction, "
                + "h_n, c_n)%n", batchSize, identical, ROWS);
    }

    @Test
    void eachSequenceGetsWhatTheLibraryGivesItAloneWithinFloatRounding() throws IOException {
        TorchLstm lstm = TorchLstm.load(model, "rnn.", null, Engine.FAST).eval();
        Map<String, INDArray> all = StateDicts.readAll(model);
        INDArray weightT = all.get("out.weight").transpose();
        INDArray bias = all.get("out.bias").reshape(1, -1);
        Map<Long, Row> rows = byId(LstmScorer.score(spark.read().parquet(parquet), model,
                options(64, ErrorPolicy.FAIL, false)).predictions());
        double worst = 0;
        for (int i = 0; i < ROWS; i++) {
            double[] s = sequences.get(i);
            int length = s.length / INPUT_SIZE;
            LstmOutput out = lstm.forward(Nd4j.create(SyntheticData.steps(s, INPUT_SIZE)).reshape(length, 1, INPUT_SIZE));
            INDArray last = out.output().get(NDArrayIndex.point(length - 1), NDArrayIndex.all(), NDArrayIndex.all());
            double[] alone = last.mmul(weightT).addRowVector(bias).toDoubleVector();
            double[] logits = doubles(rows.get((long) i), "logits");
            for (int c = 0; c < alone.length; c++) {
                worst = Math.max(worst, Math.abs(alone[c] - logits[c]));
            }
            assertEquals(Nd4j.create(alone).argMax().getInt(0), rows.get((long) i).getInt(1), "prediction of row " + i);
        }
        System.out.printf("largest |logit difference| to each sequence alone through TorchLstm: %.3e%n", worst);
        assertTrue(worst < 1e-5, "largest logit difference " + worst);
    }

    @Test
    void eachExecutorJvmReadsTheModelOnceAndBuildsOneInstancePerRunningTask() throws IOException {
        Path copy = dir.resolve("reuse.safetensors");
        SyntheticData.writeModel(copy, CONFIG, 3, 99);
        ExecutorModels.Key key = new ExecutorModels.Key(ModelFile.sha256(ModelFile.read(copy)), "rnn.", "out.",
                Engine.FAST);
        Dataset<Row> input = spark.read().parquet(parquet).repartition(12);
        for (int job = 0; job < 2; job++) {
            assertEquals(ROWS, LstmScorer.score(input, copy, options(16, ErrorPolicy.FAIL, false)).predictions().count());
        }
        int built = ExecutorModels.built(key);
        System.out.println("2 jobs x 12 partitions in local[2]: " + built + " model instance(s) built");
        assertTrue(built >= 1 && built <= 2, "instances built: " + built);
    }
}
