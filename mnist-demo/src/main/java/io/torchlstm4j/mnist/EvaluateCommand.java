package io.torchlstm4j.mnist;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Accuracy of a trained model (DL4J zip or PyTorch state_dict) on the first N test images. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Accuracy on the first --test-limit test images, the first 10 predictions and labels, and the "
                + "confusion matrix.")
final class EvaluateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;
    @ArgGroup(multiplicity = "1")
    ModelOptions model;
    @Mixin
    DataOptions data;
    @Mixin
    RuntimeOptions runtime;
    @Option(names = "--test-limit", defaultValue = "2000", description = "Default ${DEFAULT-VALUE}.")
    int testLimit;
    @Option(names = "--summary-json", paramLabel = "FILE", description = "Write a summary JSON here.")
    Path summaryJson;

    @Override
    public Integer call() throws Exception {
        if (testLimit < 1) {
            throw new IllegalArgumentException("--test-limit must be at least 1, got " + testLimit);
        }
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        int threads = runtime.applyThreads();
        TutorialModel net = model.load(runtime);
        DataLocator.Located located = data.locate(false, line -> {
            stderr.println(line);
            stderr.flush();
        });
        Images test = located.test().first(testLimit);
        if (test.cols() != net.lstmConfig().inputSize()) {
            throw new DataException("the model reads rows of " + net.lstmConfig().inputSize()
                    + " pixels but the images in " + located.source() + " are " + test.rows() + "x" + test.cols());
        }
        Evaluation evaluation = Evaluation.of(net, test);
        stdout.println(evaluation.accuracyLine());
        stdout.print(evaluation.firstTen());
        stdout.print(evaluation.confusionTable());
        stdout.flush();
        if (summaryJson != null) {
            new Summary().put("dataset", located.dataset()).put("data_dir", located.source())
                    .put("model", String.valueOf(model.source()))
                    .put("test_examples", test.size()).put("final_test_accuracy", evaluation.accuracy())
                    .put("first10_pred", evaluation.firstPredictions(10))
                    .put("first10_real", evaluation.firstLabels(10)).put("threads", threads)
                    .put("engine", net.engine().name().toLowerCase(Locale.ROOT))
                    .put("confusion_matrix", evaluation.confusion()).write(summaryJson);
        }
        return 0;
    }
}
