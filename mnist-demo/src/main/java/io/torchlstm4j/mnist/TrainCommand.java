package io.torchlstm4j.mnist;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.weights.StateDicts;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** The tutorial's run: train, report every {@code --eval-every} steps, then predictions and confusion matrix. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the tutorial's LSTM classifier (defaults: the tutorial's) and write the model, the "
                + "PyTorch state_dict, a plot and a summary to --out.")
final class TrainCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    @Spec
    CommandSpec spec;
    @Mixin
    DataOptions data;
    @Mixin
    RuntimeOptions runtime;

    @Option(names = "--epochs", defaultValue = "1", description = "Passes over the training images (default ${DEFAULT-VALUE}).")
    int epochs;
    @Option(names = "--batch-size", defaultValue = "64", description = "Default ${DEFAULT-VALUE}.")
    int batchSize;
    @Option(names = "--lr", defaultValue = "0.01", description = "Adam's learning rate (default ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--hidden-size", defaultValue = "64", description = "LSTM hidden size (default ${DEFAULT-VALUE}).")
    int hiddenSize;
    @Option(names = "--num-layers", defaultValue = "2", description = "Stacked LSTM layers (default ${DEFAULT-VALUE}).")
    int numLayers;
    @Option(names = "--seed", defaultValue = "1", description = "Initialisation and shuffling seed (default ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--eval-every", defaultValue = "50", description = "Steps between evaluations (default ${DEFAULT-VALUE}).")
    int evalEvery;
    @Option(names = "--test-limit", defaultValue = "2000", description = "Evaluate on the first N test images (default ${DEFAULT-VALUE}).")
    int testLimit;
    @Option(names = "--train-limit", paramLabel = "N", description = "Train on the first N training images only.")
    Integer trainLimit;
    @Option(names = "--holdout-from-test", paramLabel = "N", defaultValue = "0",
            description = "Evaluate on the first N test images and train on the rest of the test file (for a --data "
                    + "folder with the test split only).")
    int holdoutFromTest;
    @Option(names = "--out", paramLabel = "DIR", defaultValue = "mnist-demo-out",
            description = "Where the model, state_dict, plot and summary go (default ./${DEFAULT-VALUE}).")
    Path out;
    @Option(names = "--no-progress", description = "No progress bar (there is none without a terminal either).")
    boolean noProgress;
    @Option(names = "--workers", paramLabel = "N", defaultValue = "1",
            description = "Data-parallel training with DL4J's ParallelWrapper: N copies of the model, each training on "
                    + "its own minibatches, averaged (default ${DEFAULT-VALUE}: one model). Each worker gets one BLAS "
                    + "thread unless --threads or OMP_NUM_THREADS says otherwise.")
    int workers;
    @Option(names = "--averaging-frequency", paramLabel = "K", defaultValue = "1",
            description = "With --workers: rounds (one minibatch per worker) between averagings (default ${DEFAULT-VALUE}).")
    int averagingFrequency;
    @Option(names = "--summary-json", paramLabel = "FILE", description = "Also write the summary JSON here.")
    Path summaryJson;

    @Override
    public Integer call() throws Exception {
        checkOptions();
        Files.createDirectories(out); // before the training, so that an unwritable --out fails at once
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        // one BLAS thread per worker by default: N workers already keep N cores busy
        int threads = workers > 1 ? runtime.applyThreads(1) : runtime.applyThreads();
        DataLocator.Located located = data.locate(holdoutFromTest == 0, line -> {
            stderr.println(line);
            stderr.flush();
        });
        Images train;
        Images test;
        if (holdoutFromTest > 0) {
            if (located.train() != null) {
                throw new IllegalArgumentException("--holdout-from-test applies to a test split alone (from --data or "
                        + "mnist/MNIST/raw), but the data found is " + located.dataset() + ", already divided into "
                        + located.train().size() + " training and " + located.test().size() + " evaluation images");
            }
            if (holdoutFromTest >= located.test().size()) {
                throw new IllegalArgumentException("--holdout-from-test " + holdoutFromTest + " leaves no training "
                        + "images: the test split has " + located.test().size());
            }
            train = located.test().range(holdoutFromTest, located.test().size());
            test = located.test().first(holdoutFromTest);
        } else {
            train = located.train();
            test = located.test();
        }
        if (trainLimit != null) {
            train = train.first(trainLimit);
        }
        test = test.first(testLimit);
        LstmConfig lstm = TutorialModel.lstmConfig(train.cols(), hiddenSize, numLayers);
        Engine engine = runtime.engineFor(lstm);
        LOG.info("{}: training on {} images, evaluating on {}, {} with engine {}, {} thread(s), {} worker(s)",
                located.dataset(), train.size(), test.size(), lstm, engine, threads, workers);
        TutorialModel model = TutorialModel.create(lstm, engine, lr, DataType.FLOAT, seed);
        boolean progress = !noProgress && System.console() != null;
        Training.Result result = Training.run(model, train, test,
                new Training.Settings(epochs, batchSize, evalEvery, seed, progress, workers, averagingFrequency), stdout);
        Evaluation evaluation = Evaluation.of(model, test);
        stdout.print(evaluation.firstTen());
        stdout.println(evaluation.accuracyLine() + String.format(Locale.ROOT,
                " | %d steps | %.2f ms/step (training only)", result.steps(), result.trainMsPerStep()));
        stdout.print(evaluation.confusionTable());
        stdout.flush();

        Summary summary = new Summary().put("dataset", located.dataset()).put("data_dir", located.source())
                .put("train_examples", train.size()).put("test_examples", test.size()).put("steps", result.steps())
                .put("train_ms_per_step", result.trainMsPerStep())
                .put("final_test_accuracy", evaluation.accuracy())
                .put("final_train_loss", result.losses().get(result.steps() - 1))
                .put("first10_pred", evaluation.firstPredictions(10)).put("first10_real", evaluation.firstLabels(10))
                .put("seed", seed).put("threads", threads).put("workers", workers)
                .put("averaging_frequency", averagingFrequency).put("engine", engine.name().toLowerCase(Locale.ROOT))
                .put("epochs", epochs).put("batch_size", batchSize).put("lr", lr).put("hidden_size", hiddenSize)
                .put("num_layers", numLayers).put("confusion_matrix", evaluation.confusion());
        Path modelFile = out.resolve("model.zip");
        Path stateDict = out.resolve("state_dict.safetensors");
        Path plot = out.resolve("training.png");
        Path summaryFile = out.resolve("summary.json");
        model.save(modelFile);
        StateDicts.save(stateDict, model.stateDict(), Map.of("format", "pt", "module",
                "tutorial RNN: rnn = nn.LSTM(" + lstm.inputSize() + ", " + hiddenSize + ", num_layers=" + numLayers
                        + ", batch_first=True), out = nn.Linear(" + hiddenSize + ", 10)"), null);
        TrainingPlot.write(plot, result, evaluation.accuracy(), String.format(Locale.ROOT, "%s: LSTM(%d, %d, num_layers=%d), %s engine",
                located.dataset(), lstm.inputSize(), hiddenSize, numLayers, engine.name().toLowerCase(Locale.ROOT)));
        summary.write(summaryFile);
        if (summaryJson != null) {
            summary.write(summaryJson);
        }
        LOG.info("wrote {}, {}, {}, {}", modelFile, stateDict, plot, summaryFile);
        return 0;
    }

    private void checkOptions() {
        positive("--epochs", epochs);
        positive("--batch-size", batchSize);
        positive("--hidden-size", hiddenSize);
        positive("--num-layers", numLayers);
        positive("--eval-every", evalEvery);
        positive("--test-limit", testLimit);
        positive("--workers", workers);
        positive("--averaging-frequency", averagingFrequency);
        if (trainLimit != null) {
            positive("--train-limit", trainLimit);
        }
        if (holdoutFromTest < 0) {
            throw new IllegalArgumentException("--holdout-from-test must be 0 (off) or positive, got " + holdoutFromTest);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
        }
    }

    private static void positive(String option, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + value);
        }
    }
}
