package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;

/**
 * PyTorch's {@code nn.LSTM.reset_parameters()}: every weight and bias drawn from U(-k, k), k = 1/sqrt(hiddenSize).
 * Deterministic for a seed (its own generator: ND4J's global random state is left alone). Stateless: safe for
 * concurrent use (a {@link SplittableRandom} passed in is not).
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
        double k = 1.0 / Math.sqrt(config.hiddenSize());
        Map<String, INDArray> params = new LinkedHashMap<>();
        TorchParameterNames.expectedShapes(config).forEach((name, shape) -> params.put(name, uniform(random, k, dataType, shape)));
        return params;
    }

    /**
     * An array of {@code shape} drawn from U(-bound, bound): doubles, rounded to the nearest float for a FLOAT array,
     * which is made from floats directly (ND4J's cast op would add its first-use set-up to start-up).
     */
    public static INDArray uniform(SplittableRandom random, double bound, DataType dataType, long... shape) {
        return draw(() -> random.nextDouble(-bound, bound), dataType, shape);
    }

    /** An array of {@code shape} drawn from N(0, 1) (PyTorch's {@code nn.Embedding} init), made as {@link #uniform}. */
    public static INDArray normal(SplittableRandom random, DataType dataType, long... shape) {
        return draw(random::nextGaussian, dataType, shape);
    }

    private static INDArray draw(DoubleSupplier next, DataType dataType, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        double[] values = new double[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) {
            values[i] = next.getAsDouble();
        }
        return dataType == DataType.FLOAT ? Nd4j.create(ArrayUtil.toFloats(values), shape, DataType.FLOAT)
                : Nd4j.create(values, shape, DataType.DOUBLE).castTo(dataType);
    }
}
