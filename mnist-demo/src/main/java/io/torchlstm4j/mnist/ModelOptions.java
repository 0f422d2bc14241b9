package io.torchlstm4j.mnist;

import io.torchlstm4j.Engine;
import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.weights.StateDicts;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** {@code --model FILE | --torch-weights FILE}: the model to evaluate or to predict with. */
final class ModelOptions {

    @Option(names = "--model", paramLabel = "FILE", description = "A DL4J model zip written by the train command.")
    Path model;

    @Option(names = "--torch-weights", paramLabel = "FILE",
            description = "A state_dict of the tutorial's PyTorch module (rnn.weight_ih_l0, ..., out.weight, "
                    + "out.bias) as .safetensors or .npz; the sizes are read from the tensors.")
    Path torchWeights;

    /** Loads the model; --engine applies to --torch-weights (a --model zip knows its engine). */
    TutorialModel load(RuntimeOptions runtime) throws IOException {
        if (model != null) {
            requireFile(model, "--model");
            return TutorialModel.load(model);
        }
        requireFile(torchWeights, "--torch-weights");
        Map<String, INDArray> stateDict;
        try {
            stateDict = StateDicts.readAll(torchWeights);
        } catch (IllegalArgumentException notSafetensorsOrNpz) {
            throw new DataException(ExitCode.BAD_INPUT, "--torch-weights " + torchWeights + ": a .safetensors or .npz "
                    + "file was expected", "save the module's state_dict with safetensors.torch.save_file or with "
                    + "np.savez(f, **{k: v.numpy() for k, v in rnn.state_dict().items()})", notSafetensorsOrNpz);
        }
        try {
            Engine engine = runtime.engineFor(TutorialModel.configOf(stateDict, torchWeights.toString()));
            // the learning rate only matters for training, which evaluate and predict do not do
            return TutorialModel.fromStateDict(stateDict, engine, 0.01, DataType.FLOAT, torchWeights.toString());
        } catch (IllegalArgumentException notTheTutorialsModule) {
            throw new DataException(notTheTutorialsModule.getMessage(), notTheTutorialsModule);
        }
    }

    private static void requireFile(Path file, String option) {
        if (!Files.isRegularFile(file)) {
            throw new DataException(option + " " + file + ": no such file");
        }
    }
}
