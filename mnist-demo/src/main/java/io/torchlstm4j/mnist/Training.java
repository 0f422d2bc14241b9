package io.torchlstm4j.mnist;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.nd4j.linalg.dataset.DataSet;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The tutorial's training loop: epochs of shuffled minibatches (the last one smaller, as DataLoader's
 * {@code drop_last=False}); every {@code evalEvery} steps of an epoch (step 0 included) the batch's train loss and
 * the accuracy on the test images, printed as {@code Epoch: 0 | train loss: 0.1234 | test accuracy: 0.95}.
 */
final class Training {

    /**
     * The loop's settings.
     *
     * @param workers            1: one model; more: DL4J's {@link ParallelWrapper}, each worker a copy of the model
     *                           training on its own minibatches, parameters and updater state averaged every
     *                           {@code averagingFrequency} rounds (a round: one minibatch per worker)
     * @param averagingFrequency rounds between averagings (workers &gt; 1 only)
     */
    record Settings(int epochs, int batchSize, int evalEvery, long seed, boolean progressBar, int workers,
                    int averagingFrequency) {
    }

    /** A test accuracy measured after a step (steps counted from 0 over all epochs). */
    record EvalPoint(int step, double trainLoss, double testAccuracy) {
    }

    /**
     * What happened.
     *
     * @param losses     the train loss of every step (of every minibatch; with workers, in each round's order of
     *                   completion)
     * @param evals      the periodic evaluations
     * @param trainNanos time spent in the training steps only (not in evaluations or batch assembly); with workers,
     *                   the wall time of the parallel rounds, so trainMsPerStep is wall time per minibatch
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
        Steps steps = settings.workers() > 1 ? new ParallelSteps(model, settings) : new OneModelSteps(model);
        long trainNanos = 0;
        try (ProgressBar bar = settings.progressBar() ? progressBar((long) batchesPerEpoch * settings.epochs()) : null) {
            for (int epoch = 0; epoch < settings.epochs(); epoch++) {
                int[] order = shuffled(train.size(), random);
                List<DataSet> pending = new ArrayList<>();
                for (int step = 0; step < batchesPerEpoch; step++) {
                    int from = step * settings.batchSize();
                    int[] idx = Arrays.copyOfRange(order, from, Math.min(order.length, from + settings.batchSize()));
                    pending.add(new DataSet(train.features(idx, model.dataType()),
                            train.oneHotLabels(idx, model.dataType())));
                    boolean evaluate = step % settings.evalEvery() == 0;
                    if (!evaluate && step < batchesPerEpoch - 1 && pending.size() < steps.batchesPerCall()) {
                        continue;
                    }
                    long start = System.nanoTime();
                    List<Double> done = steps.fit(pending);
                    trainNanos += System.nanoTime() - start;
                    losses.addAll(done);
                    double loss = done.get(done.size() - 1);
                    if (bar != null) {
                        bar.stepBy(pending.size());
                        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", loss));
                    }
                    pending.clear();
                    if (evaluate) {
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
                }
            }
        }
        return new Result(List.copyOf(losses), List.copyOf(evals), trainNanos);
    }

    /** Trains on minibatches; returns each one's loss. */
    private interface Steps {
        /** How many minibatches one call takes at most (between evaluations). */
        int batchesPerCall();

        List<Double> fit(List<DataSet> batches);
    }

    /** One model, one optimizer step per minibatch. */
    private record OneModelSteps(TutorialModel model) implements Steps {
        @Override
        public int batchesPerCall() {
            return 1;
        }

        @Override
        public List<Double> fit(List<DataSet> batches) {
            List<Double> losses = new ArrayList<>();
            for (DataSet batch : batches) {
                losses.add(model.fit(batch.getFeatures(), batch.getLabels()));
            }
            return losses;
        }
    }

    /**
     * DL4J's ParallelWrapper over the model: each call copies the model to the workers (parameters and updater
     * state), runs the minibatches in rounds of one per worker, averages, and leaves the average in the model.
     */
    private static final class ParallelSteps implements Steps {
        /** Minibatches handed to one ParallelWrapper.fit: each fit starts the workers afresh. */
        private static final int ROUNDS_PER_CALL = 64;

        private final ParallelWrapper wrapper;
        private final int workers;
        private final List<Double> losses = Collections.synchronizedList(new ArrayList<>());

        ParallelSteps(TutorialModel model, Settings settings) {
            workers = settings.workers();
            wrapper = new ParallelWrapper.Builder<>(model.network()).workers(workers)
                    .trainingMode(ParallelWrapper.TrainingMode.AVERAGING)
                    .averagingFrequency(settings.averagingFrequency()).averageUpdaters(true)
                    .prefetchBuffer(0).build();
            // the workers share this listener (ParallelWrapper clones only routing listeners): every step's loss
            wrapper.setListeners(new BaseTrainingListener() {
                @Override
                public void iterationDone(Model m, int iteration, int epoch) {
                    losses.add(m.score());
                }
            });
        }

        @Override
        public int batchesPerCall() {
            return ROUNDS_PER_CALL * workers;
        }

        @Override
        public List<Double> fit(List<DataSet> batches) {
            losses.clear();
            wrapper.fit(new ExistingDataSetIterator(batches));
            if (losses.size() != batches.size()) {
                throw new IllegalStateException("ParallelWrapper reported " + losses.size() + " steps for "
                        + batches.size() + " minibatches");
            }
            return new ArrayList<>(losses);
        }
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
