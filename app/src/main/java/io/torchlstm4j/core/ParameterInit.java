package io.torchlstm4j.core;

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
        int count = count(shape);
        double low = -bound;
        // plain loops rather than a supplier called per value: these draws run once, at start-up, in the
        // interpreter, where the extra call per value doubled their time (docs/performance.md, "Start-up")
        if (dataType == DataType.FLOAT) {
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = (float) random.nextDouble(low, bound);
            }
            return floats(values, shape);
        }
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextDouble(low, bound);
        }
        return doubles(values, dataType, shape);
    }

    /** An array of {@code shape} drawn from N(0, 1) (PyTorch's {@code nn.Embedding} init), made as {@link #uniform}. */
    public static INDArray normal(SplittableRandom random, DataType dataType, long... shape) {
        int count = count(shape);
        if (dataType == DataType.FLOAT) {
            float[] values = new float[count];
            for (int i = 0; i < count; i++) {
                values[i] = (float) random.nextGaussian();
            }
            return floats(values, shape);
        }
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextGaussian();
        }
        return doubles(values, dataType, shape);
    }

    private static int count(long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return Math.toIntExact(n);
    }

    /**
     * A c-order FLOAT array of {@code shape} holding {@code values}, copied in through an NIO view of its memory: ND4J's
     * {@code Nd4j.create(float[], ...)} copies element by element, which at start-up runs in the interpreter (about
     * 10 ms for the MNIST model's 57,000 parameters; docs/performance.md, "Start-up").
     */
    private static INDArray floats(float[] values, long... shape) {
        INDArray array = Nd4j.create(DataType.FLOAT, shape, Nd4j.getStrides(shape, 'c'), 'c');
        array.data().asNioFloat().put(values);
        return array;
    }

    /** As {@link #floats}, for doubles, then cast to {@code dataType}. */
    private static INDArray doubles(double[] values, DataType dataType, long... shape) {
        INDArray array = Nd4j.create(DataType.DOUBLE, shape, Nd4j.getStrides(shape, 'c'), 'c');
        array.data().asNioDouble().put(values);
        return array.castTo(dataType);
    }
}
