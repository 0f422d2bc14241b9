package io.torchlstm4j.spark;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.weights.StateDicts;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PyTorch sequence classifier: {@code nn.LSTM(batch_first=True)} over variable-length sequences (packed, through
 * {@link TorchLstm#forward(INDArray, io.torchlstm4j.core.LstmState, int[])}), then an optional {@code nn.Linear} on each
 * sequence's output at its last valid step; for the tutorial's MNIST model that is
 * {@code self.out(r_out[:, -1, :])} with {@code rnn.*} and {@code out.*} in one state_dict.
 *
 * <p>Safe for concurrent use: {@link TorchLstm#forward} in eval mode is, and the head only reads its weights.
 */
public final class SequenceClassifier {

    private final TorchLstm lstm;
    private final LinearHead head;

    private SequenceClassifier(TorchLstm lstm, LinearHead head) {
        this.lstm = lstm;
        this.head = head;
    }

    /**
     * Reads a state_dict file through {@link StateDicts#readAll} (every format it reads) and builds the classifier.
     *
     * @param lstmPrefix the LSTM's keys, e.g. {@code "rnn."}
     * @param headPrefix the nn.Linear's keys, e.g. {@code "out."}; null for none (the outputs are then the final
     *                   states only)
     */
    public static SequenceClassifier load(Path file, String lstmPrefix, String headPrefix, Engine engine)
            throws IOException {
        return fromStateDict(StateDicts.readAll(file), lstmPrefix, headPrefix, engine, file.toString());
    }

    /** As {@link #load}, from tensors already read (every key with its prefix). */
    public static SequenceClassifier fromStateDict(Map<String, INDArray> tensors, String lstmPrefix,
                                                   String headPrefix, Engine engine, String source) {
        Map<String, INDArray> rnn = new LinkedHashMap<>();
        tensors.forEach((key, tensor) -> {
            if (key.startsWith(lstmPrefix)) rnn.put(key.substring(lstmPrefix.length()), tensor);
        });
        if (rnn.keySet().stream().noneMatch(StateDicts::isParameterName)) {
            throw new IllegalArgumentException(source + " holds no LSTM parameter (such as weight_ih_l0) under the "
                    + "prefix '" + lstmPrefix + "'; its keys are " + tensors.keySet());
        }
        if (headPrefix != null) {
            rnn.keySet().removeIf(key -> (lstmPrefix + key).startsWith(headPrefix));
        }
        LstmConfig config;
        try {
            config = StateDicts.inferConfig(rnn, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " (keys under '" + lstmPrefix + "'): " + e.getMessage(), e);
        }
        TorchLstm lstm = TorchLstm.fromStateDict(config, engine, rnn).eval();
        LinearHead head = headPrefix == null ? null : LinearHead.fromStateDict(tensors, headPrefix,
                (long) config.numDirections() * config.outputSize(), lstm.dataType(), source);
        return new SequenceClassifier(lstm, head);
    }

    public LstmConfig config() {
        return lstm.config();
    }

    public DataType dataType() {
        return lstm.dataType();
    }

    /** Whether an nn.Linear head follows the LSTM. */
    public boolean hasHead() {
        return head != null;
    }

    /** The head's out_features (the number of classes); 0 without a head. */
    public int numClasses() {
        return head == null ? 0 : head.outFeatures();
    }

    /**
     * Runs one batch. Each sequence is its steps' features one after another (length * inputSize values, at least
     * one step); the batch is padded to its longest sequence and run with the lengths, so each result is the
     * sequence's own.
     *
     * @param finalState whether to return h_n and c_n too
     * @throws IllegalArgumentException for an empty batch or a sequence whose size is not a positive multiple of
     *                                  inputSize
     */
    public Scores predict(List<double[]> sequences, boolean finalState) {
        int n = sequences.size();
        int inputSize = config().inputSize();
        if (n == 0) {
            throw new IllegalArgumentException("a batch needs at least one sequence");
        }
        int[] lengths = new int[n];
        int maxLength = 0;
        for (int i = 0; i < n; i++) {
            double[] s = sequences.get(i);
            if (s.length == 0 || s.length % inputSize != 0) {
                throw new IllegalArgumentException("sequence " + i + " has " + s.length + " values but a positive "
                        + "multiple of input_size = " + inputSize + " was expected");
            }
            lengths[i] = s.length / inputSize;
            maxLength = Math.max(maxLength, lengths[i]);
        }
        INDArray input = padded(sequences, maxLength, inputSize);
        LstmOutput out = lstm.forward(input, null, lengths);
        long features = out.output().size(2);
        INDArray last = Nd4j.create(dataType(), n, features);
        for (int i = 0; i < n; i++) {
            last.putRow(i, out.output().get(NDArrayIndex.point(i), NDArrayIndex.point(lengths[i] - 1),
                    NDArrayIndex.all()));
        }
        INDArray logits = head == null ? null : head.apply(last);
        return new Scores(logits == null ? null : logits.toDoubleMatrix(), predictions(logits),
                finalState ? rows(out.hN(), n) : null, finalState ? rows(out.cN(), n) : null);
    }

    private INDArray padded(List<double[]> sequences, int maxLength, int inputSize) {
        int n = sequences.size();
        long[] shape = {n, maxLength, inputSize};
        int stride = maxLength * inputSize;
        if (dataType() == DataType.FLOAT) {
            float[] data = new float[n * stride];
            for (int i = 0; i < n; i++) {
                double[] s = sequences.get(i);
                for (int j = 0; j < s.length; j++) {
                    data[i * stride + j] = (float) s[j];
                }
            }
            return Nd4j.create(data, shape, 'c');
        }
        double[] data = new double[n * stride];
        for (int i = 0; i < n; i++) {
            System.arraycopy(sequences.get(i), 0, data, i * stride, sequences.get(i).length);
        }
        return Nd4j.create(data, shape, 'c');
    }

    /** Index of the largest logit per row, the first on ties (torch.argmax); null without a head. */
    private static int[] predictions(INDArray logits) {
        if (logits == null) {
            return null;
        }
        double[][] rows = logits.toDoubleMatrix();
        int[] best = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            for (int c = 1; c < rows[i].length; c++) {
                if (rows[i][c] > rows[i][best[i]]) best[i] = c;
            }
        }
        return best;
    }

    /** (numLayers * D, N, H) to one (numLayers * D) x H matrix per sample. */
    private static double[][][] rows(INDArray state, int n) {
        double[][][] perSample = new double[n][][];
        for (int i = 0; i < n; i++) {
            perSample[i] = state.get(NDArrayIndex.all(), NDArrayIndex.point(i), NDArrayIndex.all()).toDoubleMatrix();
        }
        return perSample;
    }

    /**
     * One batch's results, values widened exactly to double.
     *
     * @param logits      (N, numClasses), null without a head
     * @param predictions argmax of each row of logits, null without a head
     * @param hN          per sample, h_n (numLayers * D, H_out); null unless asked for
     * @param cN          per sample, c_n (numLayers * D, H_cell); null unless asked for
     */
    public record Scores(double[][] logits, int[] predictions, double[][][] hN, double[][][] cN) {
    }
}
