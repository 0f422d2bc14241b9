package io.torchlstm4j.mnist;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The tutorial's training loop: epochs of shuffled minibatches (the last one smaller, as DataLoader's
 * {@code drop_last=False}); every {@code evalEvery} steps of an epoch (step 0 included) the batch's train loss and
 * the accuracy on the test images, printed as {@code Epoch: 0 | train loss: 0.1234 | test accuracy: 0.95}.
 */
final class Training {

    /** The loop's settings. */
    record Settings(int epochs, int batchSize, int evalEvery, long seed, boolean progressBar) {
    }

    /** A test accuracy measured after a step (steps counted from 0 over all epochs). */
    record EvalPoint(int step, double trainLoss, double testAccuracy) {
    }

    /**
     * What happened.
     *
     * @param losses     the train loss of every step
     * @param evals      the periodic evaluations
     * @param trainNanos time spent in the training steps only (not in evaluations or batch assembly)
     */
    record Result(List<Double> losses, List<EvalPoint> evals, long trainNanos) {
        int steps() {
            return losses.size();
        }

        double trainMsPerStep() {
            return losses.isEmpty() ? 0 : trainNanos / 1e6 / losses.size();
        }
    }

    private Training() {
    }

    static Result run(TutorialModel model, Images train, Images test, Settings settings, PrintWriter out) {
        int batchesPerEpoch = (train.size() + settings.batchSize() - 1) / settings.batchSize();
        Random random = new Random(settings.seed());
        List<Double> losses = new ArrayList<>();
        List<EvalPoint> evals = new ArrayList<>();
        long trainNanos = 0;
        try (ProgressBar bar = settings.progressBar() ? progressBar((long) batchesPerEpoch * settings.epochs()) : null) {
            for (int epoch = 0; epoch < settings.epochs(); epoch++) {
                int[] order = shuffled(train.size(), random);
                for (int step = 0; step < batchesPerEpoch; step++) {
                    int from = step * settings.batchSize();
                    int[] idx = Arrays.copyOfRange(order, from, Math.min(order.length, from + settings.batchSize()));
                    INDArray features = train.features(idx, model.dataType());
                    INDArray labels = train.oneHotLabels(idx, model.dataType());
                    long start = System.nanoTime();
                    double loss = model.fit(features, labels);
                    trainNanos += System.nanoTime() - start;
                    losses.add(loss);
                    if (step % settings.evalEvery() == 0) {
                        double accuracy = Evaluation.of(model, test).accuracy();
                        evals.add(new EvalPoint(losses.size() - 1, loss, accuracy));
                        if (bar != null) {
                            System.err.print("\r\033[2K"); // clear the bar's line; it redraws below the result
                            System.err.flush();
                        }
                        out.printf(Locale.ROOT, "Epoch: %d | train loss: %.4f | test accuracy: %.2f%n", epoch, loss,
                                accuracy);
                        out.flush();
                    }
                    if (bar != null) {
                        bar.step();
                        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", loss));
                    }
                }
            }
        }
        return new Result(List.copyOf(losses), List.copyOf(evals), trainNanos);
    }

    /** A random permutation of 0..n-1 (Fisher-Yates). */
    private static int[] shuffled(int n, Random random) {
        int[] order = Images.indices(0, n);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private static ProgressBar progressBar(long steps) {
        return new ProgressBarBuilder().setTaskName("train").setInitialMax(steps)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(250)
                .showSpeed().build();
    }
}
