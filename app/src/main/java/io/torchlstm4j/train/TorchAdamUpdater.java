package io.torchlstm4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The state (m, v) and the step of {@link TorchAdam} for one block of parameters. DL4J creates it; the step number
 * is DL4J's iteration count + 1. Not safe for concurrent use: it updates its state in place, from the thread that
 * fits the network (as DL4J's own updaters do).
 */
public final class TorchAdamUpdater implements GradientUpdater<TorchAdam> {

    /** Key of the first moment in {@link #getState()}. */
    public static final String M_STATE = "M";
    /** Key of the second moment in {@link #getState()}. */
    public static final String V_STATE = "V";

    private final TorchAdam config;
    private INDArray m;
    private INDArray v;
    private char gradientOrder = 'c';

    TorchAdamUpdater(TorchAdam config) {
        this.config = config;
    }

    @Override
    public TorchAdam getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> stateMap, boolean initialize) {
        if (!stateMap.containsKey(M_STATE) || !stateMap.containsKey(V_STATE) || stateMap.size() != 2) {
            throw new IllegalArgumentException("TorchAdam state must hold exactly the keys " + M_STATE + " and "
                    + V_STATE + ", found " + stateMap.keySet());
        }
        m = stateMap.get(M_STATE);
        v = stateMap.get(V_STATE);
        if (initialize) {
            m.assign(0);
            v.assign(0);
        }
    }

    @Override
    public Map<String, INDArray> getState() {
        Map<String, INDArray> state = new LinkedHashMap<>();
        state.put(M_STATE, m);
        state.put(V_STATE, v);
        return state;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (!viewArray.isVectorOrScalar() || viewArray.length() % 2 != 0) {
            throw new IllegalArgumentException("TorchAdam state view must be a vector of even length (m then v), "
                    + "got shape " + Arrays.toString(viewArray.shape()));
        }
        if (initialize) {
            viewArray.assign(0);
        }
        INDArray flat = viewArray.reshape(viewArray.length());
        long half = viewArray.length() / 2;
        INDArray mView = flat.get(NDArrayIndex.interval(0, half));
        INDArray vView = flat.get(NDArrayIndex.interval(half, 2 * half));
        m = Shape.newShapeNoCopy(mView, gradientShape, gradientOrder == 'f');
        v = Shape.newShapeNoCopy(vView, gradientShape, gradientOrder == 'f');
        if (m == null || v == null) {
            throw new IllegalStateException("TorchAdam could not view its state as the gradient's shape "
                    + Arrays.toString(gradientShape));
        }
        this.gradientOrder = gradientOrder;
    }

    /**
     * Replaces {@code gradient} (the minibatch-mean gradient) by the amount DL4J subtracts from the parameters:
     * {@code lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)}, t = iteration + 1, as torch.optim.Adam.
     */
    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (m == null || v == null) {
            throw new IllegalStateException("TorchAdamUpdater has no state: DL4J must call setStateViewArray first");
        }
        double beta1 = config.beta1();
        double beta2 = config.beta2();
        int step = iteration + 1;
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = config.lr() / biasCorrection1;

        m.muli(beta1).addi(gradient.mul(1 - beta1));
        v.muli(beta2).addi(gradient.mul(gradient).muli(1 - beta2));
        INDArray denominator = Transforms.sqrt(v.dup(gradientOrder), false).divi(biasCorrection2Sqrt).addi(config.eps());
        gradient.assign(m).divi(denominator).muli(stepSize);
    }
}
