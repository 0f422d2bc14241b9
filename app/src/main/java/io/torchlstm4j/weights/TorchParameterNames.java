package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's parameter names for a {@code torch.nn.LSTM}: the one place that spells them, and the one translation
 * between them and the {@link ParameterKey}s engines work with.
 *
 * <p>For layer k and direction suffix s ("" forward, "_reverse" backward), with H = hiddenSize,
 * P = projSize, H_out = P if P &gt; 0 else H, and layer input size I_k (inputSize for k = 0, else D * H_out):
 * <pre>
 * weight_ih_l{k}{s}  (4H, I_k)    gate rows in PyTorch's order i, f, g, o      WEIGHT_IH
 * weight_hh_l{k}{s}  (4H, H_out)                                               WEIGHT_HH
 * bias_ih_l{k}{s}    (4H)         when bias                                    BIAS_IH
 * bias_hh_l{k}{s}    (4H)         when bias                                    BIAS_HH
 * weight_hr_l{k}{s}  (P, H)       when P &gt; 0                                   WEIGHT_HR
 * </pre>
 * The shapes and the order are {@link ParameterKey}'s ({@link ParameterKey#shape}, {@link ParameterKey#all}); this
 * class adds only the names.
 *
 * <p>Safe for concurrent use: static methods that keep no state.
 */
public final class TorchParameterNames {

    private TorchParameterNames() {
    }

    /** The direction suffix PyTorch uses: "" for direction 0, "_reverse" for direction 1. */
    public static String suffix(int direction) {
        return direction == 0 ? "" : "_reverse";
    }

    /** PyTorch's name of {@code key}, e.g. {@code weight_hh_l1_reverse}. */
    public static String name(ParameterKey key) {
        String stem = switch (key.kind()) {
            case WEIGHT_IH -> "weight_ih";
            case WEIGHT_HH -> "weight_hh";
            case BIAS_IH -> "bias_ih";
            case BIAS_HH -> "bias_hh";
            case WEIGHT_HR -> "weight_hr";
        };
        return stem + "_l" + key.layer() + suffix(key.direction());
    }

    public static String weightIh(int layer, int direction) {
        return name(new ParameterKey(layer, direction, ParameterKey.Kind.WEIGHT_IH));
    }

    public static String weightHh(int layer, int direction) {
        return name(new ParameterKey(layer, direction, ParameterKey.Kind.WEIGHT_HH));
    }

    public static String biasIh(int layer, int direction) {
        return name(new ParameterKey(layer, direction, ParameterKey.Kind.BIAS_IH));
    }

    public static String biasHh(int layer, int direction) {
        return name(new ParameterKey(layer, direction, ParameterKey.Kind.BIAS_HH));
    }

    public static String weightHr(int layer, int direction) {
        return name(new ParameterKey(layer, direction, ParameterKey.Kind.WEIGHT_HR));
    }

    /** Every parameter name of {@code config} mapped to its PyTorch shape, in state_dict order. */
    public static Map<String, long[]> expectedShapes(LstmConfig config) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (ParameterKey key : ParameterKey.all(config)) {
            shapes.put(name(key), key.shape(config));
        }
        return shapes;
    }

    /** Keyed tensors (an engine's parameters or gradients) under PyTorch's names, in the same order. */
    public static Map<String, INDArray> named(Map<ParameterKey, INDArray> keyed) {
        Map<String, INDArray> named = new LinkedHashMap<>();
        keyed.forEach((key, tensor) -> named.put(name(key), tensor));
        return named;
    }

    /**
     * The tensors of a state_dict under {@code config}'s keys, in {@link ParameterKey#all} order; a key whose name the
     * state_dict lacks is left out (callers validate first, or treat a missing bias as zero), other names are ignored.
     */
    public static Map<ParameterKey, INDArray> keyed(LstmConfig config, Map<String, INDArray> stateDict) {
        Map<ParameterKey, INDArray> keyed = new LinkedHashMap<>();
        for (ParameterKey key : ParameterKey.all(config)) {
            INDArray tensor = stateDict.get(name(key));
            if (tensor != null) {
                keyed.put(key, tensor);
            }
        }
        return keyed;
    }

    /** Shape as PyTorch prints it, e.g. {@code [80, 10]}. */
    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }
}
