package example;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.weights.StateDicts;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/** Loads a PyTorch nn.LSTM's state_dict (safetensors or npz) and prints the output shape of a forward pass. */
public final class Consumer {

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : "lstm_l2.safetensors");
        // the configuration (input size, hidden size, layers, ...) is read from the tensors themselves
        TorchLstm lstm = TorchLstm.load(file, "", null, Engine.FAST).eval();
        INDArray input = Nd4j.rand(DataType.FLOAT, 5, 2, lstm.config().inputSize());   // (L, N, H_in)
        LstmOutput out = lstm.forward(input);
        System.out.println("loaded " + file.getFileName() + ": " + lstm.config());
        System.out.println("output shape: " + Arrays.toString(out.output().shape()));
        System.out.println("h_n shape: " + Arrays.toString(out.hN().shape()));
    }
}
