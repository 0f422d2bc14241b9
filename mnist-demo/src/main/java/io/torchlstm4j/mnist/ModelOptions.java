package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.weights.StateDicts;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** {@code --model FILE | --torch-weights FILE [--checkpoint-key KEY]}: the model to evaluate or to predict with. */
final class ModelOptions {

    @Option(names = "--model", paramLabel = "FILE", description = "A DL4J model zip written by the train command.")
    Path model;

    @ArgGroup(exclusive = false)
    TorchWeights torch;

    /** A PyTorch state_dict, and where it is in a training checkpoint. */
    static final class TorchWeights {
        @Option(names = "--torch-weights", paramLabel = "FILE", required = true,
                description = "A state_dict of the tutorial's PyTorch module (rnn.weight_ih_l0, ..., out.weight, "
                        + "out.bias) as saved by torch.save (.pt/.pth, also inside a training checkpoint), "
                        + ".safetensors or .npz; the sizes are read from the tensors.")
        Path file;

        @Option(names = "--checkpoint-key", paramLabel = "KEY",
                description = "The state_dict's key in a .pt/.pth training checkpoint (e.g. model; dotted when "
                        + "nested). Default: the state_dict that holds the LSTM's parameters.")
        String checkpointKey;
    }

    /** The file the model comes from. */
    Path source() {
        return model != null ? model : torch.file;
    }

    /** Loads the model; --engine applies to --torch-weights (a --model zip knows its engine). */
    TutorialModel load(RuntimeOptions runtime) throws IOException {
        if (model != null) {
            requireFile(model, "--model");
            return TutorialModel.load(model);
        }
        Path weights = torch.file;
        requireFile(weights, "--torch-weights");
        Map<String, INDArray> stateDict;
        try {
            stateDict = StateDicts.readAll(weights, torch.checkpointKey);
        } catch (IllegalArgumentException notAStateDictFile) {
            if (torch.checkpointKey != null) {
                throw new DataException(ExitCode.USAGE, "--checkpoint-key applies to .pt/.pth checkpoints only, but "
                        + "--torch-weights is " + weights, null, notAStateDictFile);
            }
            throw new DataException(ExitCode.BAD_INPUT, "--torch-weights " + weights + ": a .pt, .pth, .safetensors "
                    + "or .npz file was expected", "save the module's state_dict with "
                    + "torch.save(model.state_dict(), path)", notAStateDictFile);
        }
        try {
            Engine engine = runtime.engineFor(TutorialModel.configOf(stateDict, weights.toString()));
            // the learning rate only matters for training, which evaluate and predict do not do
            return TutorialModel.fromStateDict(stateDict, engine, 0.01, DataType.FLOAT, weights.toString());
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
