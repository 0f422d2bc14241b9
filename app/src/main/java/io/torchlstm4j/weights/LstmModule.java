package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

/**
 * Where a {@code torch.nn.LSTM}'s parameters live in Java, seen through PyTorch's names and shapes: a
 * {@code TorchLstm}, or the vertices {@code LstmLayers.addTo} added to a graph ({@code LstmLayers.module}). What
 * {@link ModelWeights} and {@link StateDicts#save(java.nio.file.Path, LstmModule, String)} bind to.
 *
 * <p>Whether an implementation is safe for concurrent use is its own Javadoc's to say.
 */
public interface LstmModule {

    LstmConfig config();

    DataType dataType();

    /** Copies of the parameters under PyTorch's names and shapes, in state_dict order. */
    Map<String, INDArray> stateDict();

    /** PyTorch's {@code load_state_dict(strict=True)}: every problem reported at once, before anything changes. */
    void loadStateDict(Map<String, INDArray> stateDict);
}
