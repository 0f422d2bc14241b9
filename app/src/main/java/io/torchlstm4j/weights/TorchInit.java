package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterInit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * PyTorch's {@code nn.LSTM.reset_parameters()} under PyTorch's names: the draws of {@link ParameterInit} (every weight
 * and bias from U(-k, k), k = 1/sqrt(hiddenSize), in state_dict order), named by {@link TorchParameterNames}. The
 * same seed gives the same numbers as an engine built from it. Stateless: safe for concurrent use (a
 * {@link SplittableRandom} passed in is not).
 */
public final class TorchInit {

    private TorchInit() {
    }

    /** A fresh state_dict for {@code config}, in state_dict order. */
    public static Map<String, INDArray> lstmStateDict(LstmConfig config, DataType dataType, long seed) {
        return lstmStateDict(config, dataType, new SplittableRandom(seed));
    }

    /** A fresh state_dict for {@code config}, in state_dict order, drawn from {@code random}. */
    public static Map<String, INDArray> lstmStateDict(LstmConfig config, DataType dataType, SplittableRandom random) {
        return TorchParameterNames.named(ParameterInit.lstm(config, dataType, random));
    }

    /** {@link ParameterInit#uniform}: an array of {@code shape} from U(-bound, bound). */
    public static INDArray uniform(SplittableRandom random, double bound, DataType dataType, long... shape) {
        return ParameterInit.uniform(random, bound, dataType, shape);
    }

    /** {@link ParameterInit#normal}: an array of {@code shape} from N(0, 1) (PyTorch's {@code nn.Embedding} init). */
    public static INDArray normal(SplittableRandom random, DataType dataType, long... shape) {
        return ParameterInit.normal(random, dataType, shape);
    }
}
