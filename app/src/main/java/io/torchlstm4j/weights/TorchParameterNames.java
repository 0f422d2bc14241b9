package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;

import java.util.Arrays;
import java.util.LinkedHashMap;
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

    /** Every parameter name of {@code config} mapped to its PyTorch shape, in state_dict order. */
    public static Map<String, long[]> expectedShapes(LstmConfig config) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long h = config.hiddenSize();
        long hOut = config.outputSize();
        for (int layer = 0; layer < config.numLayers(); layer++) {
            long in = config.layerInputSize(layer);
            for (int dir = 0; dir < config.numDirections(); dir++) {
                shapes.put(weightIh(layer, dir), new long[] {4 * h, in});
                shapes.put(weightHh(layer, dir), new long[] {4 * h, hOut});
                if (config.bias()) {
                    shapes.put(biasIh(layer, dir), new long[] {4 * h});
                    shapes.put(biasHh(layer, dir), new long[] {4 * h});
                }
                if (config.projSize() > 0) {
                    shapes.put(weightHr(layer, dir), new long[] {config.projSize(), h});
                }
            }
        }
        return shapes;
    }

    /** Shape as PyTorch prints it, e.g. {@code [80, 10]}. */
    public static String format(long[] shape) {
        return Arrays.toString(shape);
    }
}
