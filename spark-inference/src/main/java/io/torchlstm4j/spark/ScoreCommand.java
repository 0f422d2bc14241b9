package io.torchlstm4j.spark;

import io.torchlstm4j.core.Engine;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Reads sequences, scores them with a state_dict's LSTM classifier, writes predictions as Parquet. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Score sequences (Parquet, CSV or JSON lines) with a PyTorch-trained LSTM classifier read from "
                + "its state_dict file; write the predictions as Parquet, all or nothing.")
final class ScoreCommand implements Callable<Integer> {

    /** Input formats. */
    enum Format { PARQUET, CSV, JSON }

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "PATH", description = "Input file or directory.")
    String input;
    @Option(names = "--format", defaultValue = "parquet", paramLabel = "parquet|csv|json",
            description = "Input format (default ${DEFAULT-VALUE}); CSV has a header line, JSON is one object a line.")
    Format format;
    @Option(names = "--model", required = true, paramLabel = "FILE",
            description = "The state_dict (.safetensors or .npz, as StateDicts reads), e.g. model.state_dict() of "
                    + "the tutorial's module.")
    Path model;
    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Parquet output; must not exist.")
    String output;
    @Option(names = "--features-column", defaultValue = "features", paramLabel = "NAME",
            description = "array<array<number>>, array<number> or space-separated numbers (default ${DEFAULT-VALUE}).")
    String featuresColumn;
    @Option(names = "--id-column", paramLabel = "NAME", description = "Copied to the output and named in errors.")
    String idColumn;
    @Option(names = "--lstm-prefix", defaultValue = "rnn.", paramLabel = "PREFIX",
            description = "Keys of the nn.LSTM (default ${DEFAULT-VALUE}; empty for a bare nn.LSTM).")
    String lstmPrefix;
    @Option(names = "--head-prefix", defaultValue = "out.", paramLabel = "PREFIX",
            description = "Keys of the nn.Linear head (default ${DEFAULT-VALUE}).")
    String headPrefix;
    @Option(names = "--no-head", description = "The model is the LSTM alone: write h_n and c_n only.")
    boolean noHead;
    @Option(names = "--final-state", description = "Also write h_n and c_n of each sequence.")
    boolean finalState;
    @Option(names = "--engine", defaultValue = "fast", paramLabel = "fast|reference",
            description = "LSTM engine (default ${DEFAULT-VALUE}).")
    Engine engine;
    @Option(names = "--batch-size", defaultValue = "256", paramLabel = "N",
            description = "Sequences per forward call within a partition (default ${DEFAULT-VALUE}).")
    int batchSize;
    @Option(names = "--max-length", defaultValue = "10000", paramLabel = "STEPS",
            description = "Longest sequence accepted (default ${DEFAULT-VALUE}).")
    int maxLength;
    @Option(names = "--on-error", defaultValue = "fail", paramLabel = "fail|skip",
            description = "A row that cannot be scored (null, wrong size, NaN/Inf, too long) fails the job naming "
                    + "the row, or is skipped and counted (default ${DEFAULT-VALUE}).")
    ErrorPolicy onError;
    @Option(names = "--partitions", paramLabel = "N", description = "Repartition the input into N partitions.")
    Integer partitions;
    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master when not run by spark-submit (default: spark-submit's, else local[*]).")
    String master;

    @Override
    public Integer call() throws Exception {
        ScoringOptions options = new ScoringOptions(featuresColumn, idColumn, lstmPrefix, noHead ? null : headPrefix,
                engine, batchSize, maxLength, onError, finalState);
        if (partitions != null && partitions < 1) {
            throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        boolean sessionExisted = SparkSession.getDefaultSession().isDefined();
        SparkSession spark = Sessions.start("torchlstm4j-score", master);
        try {
            Dataset<Row> rows = read(spark);
            if (partitions != null) {
                rows = rows.repartition(partitions);
            }
            long start = System.nanoTime();
            LstmScorer.Scored scored = LstmScorer.score(rows, model, options);
            ParquetOutput.write(scored.predictions(), output);
            double seconds = (System.nanoTime() - start) / 1e9;
            RowCounts counts = scored.counts();
            counts.examples().forEach(e -> err.println("skipped " + e));
            err.flush();
            out.printf(Locale.ROOT, "scored %d rows, skipped %d %s, in %.2f s (%.0f rows/s); model %s (sha256 %s); "
                            + "wrote %s%n", counts.scored(), counts.skippedTotal(), counts.skipped(), seconds,
                    counts.scored() / seconds, scored.model().fileName(), scored.model().sha256(), output);
            out.flush();
            return 0;
        } finally {
            if (!sessionExisted) {
                spark.stop(); // a session of the caller's (a notebook, a test) stays up
            }
        }
    }

    private Dataset<Row> read(SparkSession spark) {
        DataFrameReader reader = spark.read();
        return switch (format) {
            case PARQUET -> reader.parquet(input);
            case CSV -> reader.option("header", "true").option("inferSchema", "true").csv(input);
            case JSON -> reader.json(input);
        };
    }
}
