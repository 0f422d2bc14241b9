package io.torchlstm4j.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Scores a Spark Dataset of sequences with a PyTorch-trained LSTM (and its nn.Linear head) read from a state_dict
 * file, without Python workers.
 *
 * <pre>
 * LstmScorer.Scored scored = LstmScorer.score(spark.read().parquet("sequences"), Path.of("model.safetensors"),
 *         ScoringOptions.defaults());
 * scored.predictions().write().parquet("predictions");
 * System.out.println(scored.counts().scored() + " rows scored");
 * </pre>
 *
 * <p>The model is read and checked on the driver first (so a wrong file or prefix fails before any task runs);
 * its bytes go to each executor once, in a broadcast; each executor JVM reads them once and reuses its models
 * across tasks and partitions ({@link ExecutorModels}). Within a partition, rows are scored in batches of
 * {@link ScoringOptions#batchSize()} sequences of any lengths (PyTorch's packed sequences). Results do not depend on
 * the batching or the partitioning: each row gets exactly what the model gives it alone.
 *
 * <p>Safe for concurrent use (it holds no state).
 */
public final class LstmScorer {

    /** The column that names each row's source file in error messages (dropped before the output). */
    private static final String SOURCE_FILE = "__torchlstm4j_source_file";

    private LstmScorer() {
    }

    /**
     * The predictions of every row of {@code input} (lazy: nothing runs until an action such as a write), and the
     * counts that the action fills.
     *
     * @throws IllegalArgumentException when the model file, the prefixes, the features column or the id column
     *                                  are not usable (checked before anything runs)
     */
    public static Scored score(Dataset<Row> input, Path modelFile, ScoringOptions options) throws IOException {
        byte[] bytes = ModelFile.read(modelFile);
        ModelFile model = ModelFile.of(modelFile, bytes);
        SequenceClassifier check = SequenceClassifier.load(modelFile, options.lstmPrefix(), options.headPrefix(),
                options.engine());
        SequenceReader reader = SequenceReader.forSchema(input.schema(), options.featuresColumn(),
                check.config().inputSize(), options.maxLength());
        StructField id = null;
        if (options.idColumn() != null) {
            if (!Arrays.asList(input.schema().fieldNames()).contains(options.idColumn())) {
                throw new IllegalArgumentException("the input has no column '" + options.idColumn() + "' (the id); "
                        + "its columns are " + Arrays.toString(input.schema().fieldNames()));
            }
            id = input.schema().apply(options.idColumn());
        }
        OutputSchema output = new OutputSchema(id, check.hasHead(), options.finalState(),
                check.dataType() == DataType.FLOAT);
        Dataset<Row> withFile = input.withColumn(SOURCE_FILE, functions.input_file_name());
        int idIndex = id == null ? -1 : withFile.schema().fieldIndex(options.idColumn());
        int fileIndex = withFile.schema().fieldIndex(SOURCE_FILE);
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext());
        Broadcast<byte[]> broadcast = sc.broadcast(bytes);
        RowCounts counts = new RowCounts(sc.sc());
        PartitionScorer scorer = new PartitionScorer(broadcast, model, options, reader, output, idIndex, fileIndex,
                counts);
        return new Scored(withFile.mapPartitions(scorer, Encoders.row(output.schema())), counts, model);
    }

    /**
     * @param predictions the output rows (lazy)
     * @param counts      rows scored and skipped, filled by the action that computes {@code predictions}
     * @param model       the model file's name and digest
     */
    public record Scored(Dataset<Row> predictions, RowCounts counts, ModelFile model) {
    }
}
