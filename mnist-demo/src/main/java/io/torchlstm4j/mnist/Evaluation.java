package io.torchlstm4j.mnist;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.Locale;

/**
 * A model's predictions on labelled images: accuracy, the tutorial's first 10 predictions and a confusion matrix.
 *
 * @param predictions predicted class per image
 * @param labels      real class per image
 */
public record Evaluation(int[] predictions, int[] labels) {

    private static final int BATCH = 500;

    /** Predicts every image, {@value #BATCH} at a time. */
    public static Evaluation of(TutorialModel model, Images images) {
        int[] predictions = new int[images.size()];
        int[] labels = new int[images.size()];
        for (int from = 0; from < images.size(); from += BATCH) {
            int[] idx = Images.indices(from, Math.min(images.size(), from + BATCH));
            INDArray argmax = model.probabilities(images.features(idx, model.dataType())).argMax(1);
            for (int i = 0; i < idx.length; i++) {
                predictions[idx[i]] = argmax.getInt(i);
                labels[idx[i]] = images.label(idx[i]);
            }
        }
        return new Evaluation(predictions, labels);
    }

    public int correct() {
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            if (predictions[i] == labels[i]) correct++;
        }
        return correct;
    }

    public double accuracy() {
        return labels.length == 0 ? 0 : (double) correct() / labels.length;
    }

    public int[] firstPredictions(int n) {
        return Arrays.copyOf(predictions, Math.min(n, predictions.length));
    }

    public int[] firstLabels(int n) {
        return Arrays.copyOf(labels, Math.min(n, labels.length));
    }

    /** The tutorial's closing lines: numpy's print of the first 10 predictions and of the real labels. */
    public String firstTen() {
        return numpy(firstPredictions(10)) + " prediction number\n" + numpy(firstLabels(10)) + " real number\n";
    }

    /** counts[real][predicted]. */
    public int[][] confusion() {
        int[][] counts = new int[Images.NUM_CLASSES][Images.NUM_CLASSES];
        for (int i = 0; i < labels.length; i++) {
            counts[labels[i]][predictions[i]]++;
        }
        return counts;
    }

    /** The confusion matrix as a table: one row per real class, one column per predicted class. */
    public String confusionTable() {
        int[][] counts = confusion();
        StringBuilder s = new StringBuilder("Confusion matrix (rows: real class, columns: predicted class)\n");
        s.append("real\\pred");
        for (int c = 0; c < Images.NUM_CLASSES; c++) s.append(String.format(Locale.ROOT, "%6d", c));
        s.append('\n');
        for (int r = 0; r < Images.NUM_CLASSES; r++) {
            s.append(String.format(Locale.ROOT, "%9d", r));
            for (int c = 0; c < Images.NUM_CLASSES; c++) s.append(String.format(Locale.ROOT, "%6d", counts[r][c]));
            s.append('\n');
        }
        return s.toString();
    }

    /** The accuracy line: {@code test accuracy: 0.9465 (1893/2000)}. */
    public String accuracyLine() {
        return String.format(Locale.ROOT, "test accuracy: %.4f (%d/%d)", accuracy(), correct(), labels.length);
    }

    private static String numpy(int[] values) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            if (i > 0) s.append(' ');
            s.append(values[i]);
        }
        return s.append(']').toString();
    }
}
