package io.torchlstm4j.core;

import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PyTorch's initialisation rules, without PyTorch's names: {@code nn.LSTM.reset_parameters()} draws every weight and
 * bias from U(-k, k), k = 1/sqrt(hiddenSize), one tensor after the other in {@link ParameterKey#all} order (which is
 * PyTorch's state_dict order). Engines initialise with it; the PyTorch boundary
 * ({@code io.torchlstm4j.weights.TorchInit}) names what it draws. Deterministic for a seed (its own generator: ND4J's
 * global random state is left alone).
 *
 * <p>Stateless: safe for concurrent use (a {@link SplittableRandom} passed in is not).
 */
public final class ParameterInit {

    private ParameterInit() {
    }

    /** Fresh parameters for {@code config}, in {@link ParameterKey#all} order. */
    public static Map<ParameterKey, INDArray> lstm(LstmConfig config, DataType dataType, long seed) {
        return lstm(config, dataType, new SplittableRandom(seed));
    }

    /** Fresh parameters for {@code config}, in {@link ParameterKey#all} order, drawn from {@code random}. */
    public static Map<ParameterKey, INDArray> lstm(LstmConfig config, DataType dataType, SplittableRandom random) {
        double k = 1.0 / Math.sqrt(config.hiddenSize());
        Map<ParameterKey, INDArray> params = new LinkedHashMap<>();
        for (ParameterKey key : ParameterKey.all(config)) {
            params.put(key, uniform(random, k, dataType, key.shape(config)));
        }
        return params;
    }

    /**
     * An array of {@code shape} drawn from U(-bound, bound): doubles, rounded to the nearest float for a FLOAT array,
     * which is made from floats directly (ND4J's cast op would add its first-use set-up to start-up).
     */
    public static INDArray uniform(SplittableRandom random, double bound, DataType dataType, long... shape) {
        double[] values = new double[count(shape)];
        double low = -bound;
        // a plain loop rather than a supplier called per value: these draws run once, at start-up, in the
        // interpreter, where the extra call per value doubled their time (docs/performance.md, "Start-up")
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextDouble(low, bound);
        }
        return array(values, dataType, shape);
    }

    /** An array of {@code shape} drawn from N(0, 1) (PyTorch's {@code nn.Embedding} init), made as {@link #uniform}. */
    public static INDArray normal(SplittableRandom random, DataType dataType, long... shape) {
        double[] values = new double[count(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian();
        }
        return array(values, dataType, shape);
    }

    private static int count(long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return Math.toIntExact(n);
    }

    private static INDArray array(double[] values, DataType dataType, long... shape) {
        return dataType == DataType.FLOAT ? Nd4j.create(ArrayUtil.toFloats(values), shape, DataType.FLOAT)
                : Nd4j.create(values, shape, DataType.DOUBLE).castTo(dataType);
    }
}
