package io.torchlstm4j.spark;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.nn.Linear(in_features, out_features)}: {@code y = x W^T + b}, from a state_dict's
 * {@code <prefix>weight} (out_features, in_features) and optional {@code <prefix>bias} (out_features).
 * Kept to this one concern so that a generic nn.Linear of the library can replace it.
 *
 * <p>Immutable; {@link #apply} is safe for concurrent use (it only reads the weights).
 */
public final class LinearHead {

    private final INDArray weightT;
    private final INDArray bias;

    private LinearHead(INDArray weightT, INDArray bias) {
        this.weightT = weightT;
        this.bias = bias;
    }

    /**
     * The head under {@code prefix} in {@code tensors}, as {@code dataType}.
     *
     * @param inFeatures what the LSTM gives it (D * H_out)
     * @throws IllegalArgumentException naming every missing or misshapen tensor
     */
    public static LinearHead fromStateDict(Map<String, INDArray> tensors, String prefix, long inFeatures,
                                           DataType dataType, String source) {
        INDArray weight = tensors.get(prefix + "weight");
        INDArray bias = tensors.get(prefix + "bias");
        List<String> problems = new ArrayList<>();
        if (weight == null) {
            problems.add(prefix + "weight is missing");
        } else if (weight.rank() != 2 || weight.size(1) != inFeatures || weight.size(0) < 1) {
            problems.add(prefix + "weight has shape " + Arrays.toString(weight.shape())
                    + " but (out_features, D * H_out) = [out_features, " + inFeatures + "] was expected");
        }
        if (bias != null && weight != null && weight.rank() == 2
                && (bias.rank() != 1 || bias.size(0) != weight.size(0))) {
            problems.add(prefix + "bias has shape " + Arrays.toString(bias.shape()) + " but (out_features,) = ["
                    + weight.size(0) + "] was expected");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(source + ": the nn.Linear head under '" + prefix + "' does not fit: "
                    + String.join("; ", problems));
        }
        return new LinearHead(weight.castTo(dataType).transpose().dup('c'),
                bias == null ? null : bias.castTo(dataType).reshape(1, bias.size(0)).dup('c'));
    }

    /** out_features. */
    public int outFeatures() {
        return (int) weightT.size(1);
    }

    /** (N, in_features) to (N, out_features). */
    public INDArray apply(INDArray x) {
        INDArray y = x.mmul(weightT);
        return bias == null ? y : y.addiRowVector(bias);
    }
}
