package io.torchlstm4j.readme;

// README.md, "From your PyTorch model to Java": from here to the end of the file, compared by ReadmeExampleTest
import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.weights.StateDicts;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Path;
import java.util.Arrays;

public class FromPyTorch {
    public static void main(String[] args) throws Exception {
        Path weights = Path.of(args[0]);                  // model.pt, model.safetensors or model.npz
        // model.rnn = nn.LSTM(3, 5, proj_size=2, batch_first=True): the file's tensors are checked against it
        LstmConfig config = LstmConfig.builder(3, 5).projSize(2).batchFirst(true).build();
        TorchLstm lstm = TorchLstm.load(weights, "rnn.", config, Engine.FAST).eval();

        INDArray x = Nd4j.randn(DataType.FLOAT, 8, 10, 3);          // (N, L, H_in), batch_first
        LstmOutput out = lstm.forward(x);                           // (h0, c0) default to zeros
        System.out.println("output " + Arrays.toString(out.output().shape()));   // (N, L, D * H_out)
        System.out.println("h_n " + Arrays.toString(out.hN().shape()));          // (num_layers * D, N, H_out)
        System.out.println("c_n " + Arrays.toString(out.cN().shape()));          // (num_layers * D, N, H_cell)

        StateDicts.save(Path.of(args[1]), lstm, "rnn.");  // for model.load_state_dict(..., strict=False)
    }
}
