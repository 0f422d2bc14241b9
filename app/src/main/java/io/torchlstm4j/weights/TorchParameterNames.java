package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's parameter names and shapes for a {@code torch.nn.LSTM}, in the order of its {@code state_dict()}.
 *
 * <p>For layer k and direction suffix s ("" forward, "_reverse" backward), with H = hiddenSize,
 * P = projSize, H_out = P if P &gt; 0 else H, and layer input size I_k (inputSize for k = 0, else D * H_out):
 * <pre>
 * weight_ih_l{k}{s}  (4H, I_k)    gate rows in PyTorch's order i, f, g, o
 * weight_hh_l{k}{s}  (4H, H_out)
 * bias_ih_l{k}{s}    (4H)         when bias
 * bias_hh_l{k}{s}    (4H)         when bias
 * weight_hr_l{k}{s}  (P, H)       when P &gt; 0
 * </pre>
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

    public static String weightIh(int layer, int direction) {
        return "weight_ih_l" + layer + suffix(direction);
    }

    public static String weightHh(int layer, int direction) {
        return "weight_hh_l" + layer + suffix(direction);
    }

    public static String biasIh(int layer, int direction) {
        return "bias_ih_l" + layer + suffix(direction);
    }

    public static String biasHh(int layer, int direction) {
        return "bias_hh_l" + layer + suffix(direction);
    }

    public static String weightHr(int layer, int direction) {
        return "weight_hr_l" + layer + suffix(direction);
    }

    /** What a parameter is, within its layer and direction. */
    public enum Kind {
        WEIGHT_IH, WEIGHT_HH, BIAS_IH, BIAS_HH, WEIGHT_HR;

        /** True for b_ih and b_hh. */
        public boolean isBias() {
            return this == BIAS_IH || this == BIAS_HH;
        }
    }

    /**
     * One parameter of an {@code nn.LSTM}.
     *
     * @param name      PyTorch's name, e.g. {@code weight_hh_l1_reverse}
     * @param layer     its layer k
     * @param direction 0 forward, 1 backward
     * @param kind      which tensor of the layer and direction it is
     * @param shape     PyTorch's shape (a copy is returned)
     */
    public record Parameter(String name, int layer, int direction, Kind kind, long[] shape) {
        public Parameter {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    /** Every parameter of {@code config}, in state_dict order: the one place that enumerates PyTorch's names. */
    public static List<Parameter> parameters(LstmConfig config) {
        List<Parameter> parameters = new ArrayList<>();
        long h = config.hiddenSize();
        long hOut = config.outputSize();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            long in = config.layerInputSize(layer);
            for (int dir = 0; dir < config.numDirections(); dir++) {
                parameters.add(new Parameter(weightIh(layer, dir), layer, dir, Kind.WEIGHT_IH, new long[] {4 * h, in}));
                parameters.add(new Parameter(weightHh(layer, dir), layer, dir, Kind.WEIGHT_HH,
                        new long[] {4 * h, hOut}));
                if (config.bias()) {
                    parameters.add(new Parameter(biasIh(layer, dir), layer, dir, Kind.BIAS_IH, new long[] {4 * h}));
                    parameters.add(new Parameter(biasHh(layer, dir), layer, dir, Kind.BIAS_HH, new long[] {4 * h}));
                }
                if (config.projSize() > 0) {
                    parameters.add(new Parameter(weightHr(layer, dir), layer, dir, Kind.WEIGHT_HR,
                            new long[] {config.projSize(), h}));
                }
            }
        }
        return parameters;
    }

    /** Every parameter name of {@code config} mapped to its PyTorch shape, in state_dict order. */
    public static Map<String, long[]> expectedShapes(LstmConfig config) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Parameter p : parameters(config)) {
            shapes.put(p.name(), p.shape());
        }
        return shapes;
    }

    /** Shape as PyTorch prints it, e.g. {@code [80, 10]}. */
    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }
}
