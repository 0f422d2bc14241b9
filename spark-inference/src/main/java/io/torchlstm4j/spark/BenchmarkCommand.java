package io.torchlstm4j.spark;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Rows per second of the same job on Spark masters (e.g. local[1], local[2]) against the single-process library on
 * the same data: the tutorial's model shape on random sequences written to Parquet once.
 */
@Command(name = "benchmark", mixinStandardHelpOptions = true,
        description = "Rows per second: the score job at each --master (Parquet in, Parquet out) against the "
                + "single-process library (SequenceClassifier on the same sequences in memory, same batch size).")
final class BenchmarkCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--rows", defaultValue = "20000", description = "Sequences (default ${DEFAULT-VALUE}).")
    int rows;
    @Option(names = "--input-size", defaultValue = "28", description = "Default ${DEFAULT-VALUE} (MNIST rows).")
    int inputSize;
    @Option(names = "--length", defaultValue = "28", description = "Steps per sequence (default ${DEFAULT-VALUE}).")
    int length;
    @Option(names = "--hidden-size", defaultValue = "64", description = "Default ${DEFAULT-VALUE}.")
    int hiddenSize;
    @Option(names = "--num-layers", defaultValue = "2", description = "Default ${DEFAULT-VALUE}.")
    int numLayers;
    @Option(names = "--batch-size", defaultValue = "256", description = "Default ${DEFAULT-VALUE}.")
    int batchSize;
    @Option(names = "--partitions", defaultValue = "8", description = "Parquet files written (default ${DEFAULT-VALUE}).")
    int partitions;
    @Option(names = "--runs", defaultValue = "3", description = "Timed runs after one warm-up (default ${DEFAULT-VALUE}).")
    int runs;
    @Option(names = "--master", split = ",", defaultValue = "local[1],local[2]",
            description = "Spark masters to time (default ${DEFAULT-VALUE}).")
    List<String> masters;
    @Option(names = "--threads", defaultValue = "1",
            description = "ND4J/BLAS threads per JVM (default ${DEFAULT-VALUE}: Spark runs one task per core).")
    int threads;
    @Option(names = "--work-dir", paramLabel = "DIR", description = "Where the data goes (default: a temporary directory).")
    Path workDir;

    @Override
    public Integer call() throws Exception {
        if (rows < 1 || runs < 1 || batchSize < 1 || partitions < 1 || threads < 1) {
            throw new IllegalArgumentException("--rows, --runs, --batch-size, --partitions and --threads must be at "
                    + "least 1");
        }
        Nd4j.getEnvironment().setMaxThreads(threads);
        Nd4j.getEnvironment().setMaxMasterThreads(threads);
        Nd4j.factory().blas().setMaxThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("torchlstm4j-bench");
        LstmConfig config = LstmConfig.builder(inputSize, hiddenSize).numLayers(numLayers).batchFirst(true).build();
        Path model = dir.resolve("model.safetensors");
        SyntheticData.writeModel(model, config, 10, 1);
        List<double[]> sequences = SyntheticData.sequences(rows, inputSize, length, length, 2);
        String input = dir.resolve("sequences.parquet").toString();
        ScoringOptions options = new ScoringOptions("features", "id", "rnn.", "out.", Engine.FAST, batchSize,
                10_000, ErrorPolicy.FAIL, false);

        out.printf(Locale.ROOT, "%d sequences of %d x %d, LSTM(%d, %d, num_layers=%d) + Linear(%d, 10), float32, "
                        + "FAST engine, batch %d, %d ND4J thread(s) per JVM, %d available processor(s), best and "
                        + "median of %d runs after a warm-up%n", rows, length, inputSize, inputSize, hiddenSize,
                numLayers, hiddenSize, batchSize, threads, Runtime.getRuntime().availableProcessors(), runs);
        out.printf("%-34s %12s %12s%n", "run", "best rows/s", "median rows/s");

        SequenceClassifier classifier = SequenceClassifier.load(model, "rnn.", "out.", Engine.FAST);
        double[] single = time(() -> {
            for (int from = 0; from < rows; from += batchSize) {
                classifier.predict(sequences.subList(from, Math.min(rows, from + batchSize)), false);
            }
        });
        report(out, "single process (library, in memory)", single);

        for (String master : masters) {
            SparkSession spark = SparkSession.builder().appName("torchlstm4j-benchmark").master(master)
                    .config("spark.ui.enabled", "false").getOrCreate();
            try {
                if (!Files.exists(Path.of(input))) {
                    spark.createDataFrame(SyntheticData.rows(sequences, inputSize), SyntheticData.SCHEMA)
                            .repartition(partitions).write().parquet(input);
                }
                String outputs = "predictions-" + master.replaceAll("[^A-Za-z0-9]", "") + "-";
                int[] run = {0};
                double[] seconds = time(() -> {
                    Dataset<Row> in = spark.read().parquet(input);
                    LstmScorer.Scored scored = LstmScorer.score(in, model, options);
                    ParquetOutput.write(scored.predictions(), dir.resolve(outputs + run[0]++).toString());
                    if (scored.counts().scored() != rows) {
                        throw new IllegalStateException("scored " + scored.counts().scored() + " rows of " + rows);
                    }
                });
                report(out, "Spark " + master + " (Parquet in and out)", seconds);
            } finally {
                spark.stop();
            }
        }
        return 0;
    }

    private void report(PrintWriter out, String name, double[] seconds) {
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        out.printf(Locale.ROOT, "%-34s %12.0f %12.0f%n", name, rows / sorted[0], rows / sorted[sorted.length / 2]);
        out.flush();
    }

    /** Seconds of each timed run (after one untimed warm-up). */
    private double[] time(Run body) throws Exception {
        body.run();
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            body.run();
            seconds.add((System.nanoTime() - start) / 1e9);
        }
        return seconds.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private interface Run {
        void run() throws Exception;
    }
}
