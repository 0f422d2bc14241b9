package io.torchlstm4j.mnist;

import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** The class of each image file. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = "Print the predicted class of each image (PNG, JPEG, ...: made greyscale and resized to 28x28; "
                + "a dark digit on a light background is inverted to MNIST's light digit on black).")
final class PredictCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;
    @ArgGroup(multiplicity = "1")
    ModelOptions model;
    @Mixin
    RuntimeOptions runtime;
    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Image files.")
    List<Path> images;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        runtime.applyThreads();
        TutorialModel net = model.load(runtime);
        int size = net.lstmConfig().inputSize();
        Images input = ImageInput.read(images, size);
        INDArray probabilities = net.probabilities(input.features(Images.indices(0, input.size()), net.dataType()));
        for (int i = 0; i < images.size(); i++) {
            int digit = probabilities.getRow(i).argMax().getInt(0);
            stdout.printf(Locale.ROOT, "%s: %d (p=%.3f)%n", images.get(i), digit, probabilities.getDouble(i, digit));
        }
        stdout.flush();
        return 0;
    }
}
