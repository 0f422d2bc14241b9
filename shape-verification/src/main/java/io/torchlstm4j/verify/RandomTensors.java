package io.torchlstm4j.verify;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

/**
 * Standard-normal tensors from a seed (like {@code torch.randn}), independent of ND4J's global random state, so
 * that a verification run is reproducible from its seed alone.
 */
public final class RandomTensors {

    private RandomTensors() {
    }

    /** A tensor of the given shape with values drawn from N(0, 1) by {@link Random#nextGaussian()}. */
    public static INDArray normal(DataType dataType, Random random, long... shape) {
        long count = 1;
        for (long s : shape) {
            if (s < 1) {
                throw new IllegalArgumentException("every dimension must be at least 1, got shape "
                        + java.util.Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, s);
        }
        double[] values = new double[Math.toIntExact(count)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextGaussian();
        }
        return Nd4j.create(values, shape, 'c').castTo(dataType);
    }
}
