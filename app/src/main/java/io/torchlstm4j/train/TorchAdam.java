package io.torchlstm4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Map;
import java.util.Objects;

/**
 * {@code torch.optim.Adam(params, lr, betas=(beta1, beta2), eps)} as a DL4J updater, step for step.
 *
 * <p>With g the (minibatch-mean) gradient and t = 1, 2, ... the step number:
 * <pre>
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   param -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * DL4J's own {@code Adam} adds eps to sqrt(v) before the bias correction of the second moment
 * ({@code lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)}); both agree when eps is negligible, they
 * do not agree while v is small. PyTorch's defaults: lr = 0.001, betas = (0.9, 0.999), eps = 1e-8, no weight decay,
 * no amsgrad. Immutable, so safe for concurrent use; serialised to JSON with the network configuration, so
 * {@code ModelSerializer} keeps it.
 *
 * <p>One PyTorch parameter, one DL4J parameter: where DL4J holds two PyTorch parameters in one (the stock LSTM's
 * bias b = bias_ih + bias_hh, each receiving the same gradient), PyTorch moves b by twice the step of one bias;
 * give such a parameter {@link #withLearningRate twice the learning rate}.
 */
public final class TorchAdam implements IUpdater {

    /** PyTorch's default learning rate. */
    public static final double DEFAULT_LR = 1e-3;
    /** PyTorch's default betas[0]. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** PyTorch's default betas[1]. */
    public static final double DEFAULT_BETA2 = 0.999;
    /** PyTorch's default eps. */
    public static final double DEFAULT_EPS = 1e-8;

    @JsonProperty("lr")
    private final double lr;
    @JsonProperty("beta1")
    private final double beta1;
    @JsonProperty("beta2")
    private final double beta2;
    @JsonProperty("eps")
    private final double eps;

    /** {@code torch.optim.Adam(params, lr=lr)} with the other defaults. */
    public TorchAdam(double lr) {
        this(lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS);
    }

    /** {@code torch.optim.Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)}; the values are checked as PyTorch does. */
    @JsonCreator
    public TorchAdam(@JsonProperty("lr") double lr, @JsonProperty("beta1") double beta1,
                     @JsonProperty("beta2") double beta2, @JsonProperty("eps") double eps) {
        if (!(lr >= 0)) {
            throw new IllegalArgumentException("Invalid learning rate: lr=" + lr + " (expected lr >= 0)");
        }
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("Invalid epsilon value: eps=" + eps + " (expected eps >= 0)");
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("Invalid beta parameter at index 0: beta1=" + beta1
                    + " (expected 0 <= beta1 < 1)");
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("Invalid beta parameter at index 1: beta2=" + beta2
                    + " (expected 0 <= beta2 < 1)");
        }
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    public double lr() {
        return lr;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    /** The same optimizer with another learning rate (e.g. twice the rate for a DL4J parameter that stands for two). */
    public TorchAdam withLearningRate(double newLr) {
        return new TorchAdam(newLr, beta1, beta2, eps);
    }

    /** Two state arrays, m and v, each the size of the parameter. */
    @Override
    public long stateSize(long numParams) {
        return 2 * numParams;
    }

    @Override
    public GradientUpdater<TorchAdam> instantiate(INDArray viewArray, boolean initializeViewArray) {
        TorchAdamUpdater u = new TorchAdamUpdater(this);
        long[] gradientShape = viewArray.shape().clone();
        gradientShape[gradientShape.length - 1] /= 2;
        u.setStateViewArray(viewArray, gradientShape, viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater<TorchAdam> instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        TorchAdamUpdater u = new TorchAdamUpdater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    /** Immutable: the same instance. */
    @Override
    public TorchAdam clone() {
        return this;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return lr;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    /** Not supported: TorchAdam is immutable and has no schedule; build one with {@link #withLearningRate}. */
    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        throw new UnsupportedOperationException("TorchAdam is immutable and has no learning-rate schedule: "
                + "configure the layers with TorchAdam.withLearningRate(" + lr + ") instead");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TorchAdam t && t.lr == lr && t.beta1 == beta1 && t.beta2 == beta2 && t.eps == eps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(lr, beta1, beta2, eps);
    }

    @Override
    public String toString() {
        return "TorchAdam(lr=" + lr + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ")";
    }
}
