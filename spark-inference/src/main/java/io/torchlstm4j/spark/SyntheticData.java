package io.torchlstm4j.spark;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.weights.StateDicts;
import io.torchlstm4j.weights.TorchInit;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model and sequences of a given shape, for the benchmark and the tests: the tutorial module's state_dict
 * ({@code rnn.*} and {@code out.*}, initialised as PyTorch initialises a new module) and random float32 sequences.
 *
 * <p>Stateless; safe for concurrent use.
 */
public final class SyntheticData {

    /** The rows' schema: {@code id} (long) and {@code features} (array&lt;array&lt;float&gt;&gt;, steps x inputs). */
    public static final StructType SCHEMA = DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.LongType, false),
            DataTypes.createStructField("features", DataTypes.createArrayType(
                    DataTypes.createArrayType(DataTypes.FloatType, false), true), true)));

    private SyntheticData() {
    }

    /**
     * Writes {@code rnn = nn.LSTM(config)} and {@code out = nn.Linear(D * H_out, numClasses)} as a safetensors
     * state_dict, float32, initialised like PyTorch from {@code seed}.
     */
    public static void writeModel(Path file, LstmConfig config, int numClasses, long seed) throws IOException {
        int features = config.numDirections() * config.outputSize();
        double bound = 1.0 / Math.sqrt(features);
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        Map<String, INDArray> sd = new LinkedHashMap<>();
        TorchInit.lstmStateDict(config, DataType.FLOAT, seed).forEach((k, v) -> sd.put("rnn." + k, v));
        sd.put("out.weight", TorchInit.uniform(random, bound, DataType.FLOAT, numClasses, features));
        sd.put("out.bias", TorchInit.uniform(random, bound, DataType.FLOAT, numClasses));
        StateDicts.save(file, sd, Map.of("module", "rnn = nn.LSTM(" + config + "), out = nn.Linear(" + features
                + ", " + numClasses + ")"), null);
    }

    /** {@code n} sequences of {@code minLength..maxLength} steps of {@code inputSize} floats in [-1, 1). */
    public static List<double[]> sequences(int n, int inputSize, int minLength, int maxLength, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<double[]> sequences = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int length = random.nextInt(minLength, maxLength + 1);
            double[] s = new double[length * inputSize];
            for (int j = 0; j < s.length; j++) {
                s[j] = (float) (2 * random.nextDouble() - 1);
            }
            sequences.add(s);
        }
        return sequences;
    }

    /** Row i: id i, the sequence's steps as float arrays. */
    public static List<Row> rows(List<double[]> sequences, int inputSize) {
        List<Row> rows = new ArrayList<>(sequences.size());
        for (int i = 0; i < sequences.size(); i++) {
            rows.add(RowFactory.create((long) i, steps(sequences.get(i), inputSize)));
        }
        return rows;
    }

    /** A sequence as the nested arrays of {@link #SCHEMA}. */
    public static float[][] steps(double[] sequence, int inputSize) {
        float[][] steps = new float[sequence.length / inputSize][inputSize];
        for (int t = 0; t < steps.length; t++) {
            for (int f = 0; f < inputSize; f++) {
                steps[t][f] = (float) sequence[t * inputSize + f];
            }
        }
        return steps;
    }
}
