package io.torchlstm4j.core;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The one place that maps an LSTM's parameters ({@link ParameterKey}s, gate blocks in the order i, f, g, o) to DL4J's
 * stock {@code LSTM} layer and back. It speaks keys, not PyTorch's names, so that both the reference engine (DL4J's
 * layers behind the engine seam) and the PyTorch boundary ({@code io.torchlstm4j.weights.Dl4jLstms}, users' own DL4J
 * networks) use it; the boundary names the keys.
 *
 * <table>
 * <caption>Keys to DL4J (H = hidden size, I = layer input size)</caption>
 * <tr><th>key (PyTorch's tensor)</th><th>DL4J</th><th>mapping</th></tr>
 * <tr><td>WEIGHT_IH (4H, I), gate rows i, f, g, o</td><td>W [I, 4H], gate columns g, f, o, i</td>
 *     <td>W = P(weight_ih)^T</td></tr>
 * <tr><td>WEIGHT_HH (4H, H)</td><td>RW [H, 4H]</td><td>RW = P(weight_hh)^T</td></tr>
 * <tr><td>BIAS_IH (4H), BIAS_HH (4H)</td><td>b [1, 4H] (one bias)</td><td>b = P(bias_ih + bias_hh)</td></tr>
 * </table>
 * P reorders the four H-sized gate blocks: DL4J block j holds block {@link #TORCH_BLOCK_OF_DL4J}[j] of the keys'.
 * Going back, DL4J's single bias is split as bias_ih = b, bias_hh = 0, which gives the same outputs.
 * Stateless: safe for concurrent use (on arrays no other thread writes).
 */
public final class GateMapping {

    /** DL4J's gate blocks g, f, o, i taken from PyTorch's i(0), f(1), g(2), o(3). */
    static final int[] TORCH_BLOCK_OF_DL4J = {2, 1, 3, 0};

    private GateMapping() {
    }

    /**
     * Copies layer {@code layer}, direction {@code direction} of keyed parameters (shapes already checked; absent
     * biases mean zero) into one DL4J LSTM's parameters, in place.
     *
     * @param w  DL4J's input weights W [I, 4H]
     * @param rw DL4J's recurrent weights RW [H, 4H]
     * @param b  DL4J's bias b [1, 4H]
     */
    public static void load(Map<ParameterKey, INDArray> params, int layer, int direction, INDArray w, INDArray rw,
                            INDArray b) {
        w.assign(toDl4jWeight(params.get(key(layer, direction, ParameterKey.Kind.WEIGHT_IH)).castTo(w.dataType())));
        rw.assign(toDl4jWeight(params.get(key(layer, direction, ParameterKey.Kind.WEIGHT_HH)).castTo(rw.dataType())));
        b.assign(toDl4jBias(params.get(key(layer, direction, ParameterKey.Kind.BIAS_IH)),
                params.get(key(layer, direction, ParameterKey.Kind.BIAS_HH)), rw.size(0), b.dataType()));
    }

    /**
     * Puts one DL4J LSTM's parameters (W, RW, b; or their gradients) into {@code params} under the keys of
     * {@code layer} and {@code direction}, in {@link ParameterKey#all} order: WEIGHT_IH, WEIGHT_HH and, when
     * {@code bias}, BIAS_IH = P(b) and BIAS_HH = {@code biasHh} applied to it (zeros for parameters, a copy for
     * gradients).
     */
    public static void export(Map<ParameterKey, INDArray> params, int layer, int direction, INDArray w, INDArray rw,
                              INDArray b, boolean bias, UnaryOperator<INDArray> biasHh) {
        params.put(key(layer, direction, ParameterKey.Kind.WEIGHT_IH), toTorchWeight(w));
        params.put(key(layer, direction, ParameterKey.Kind.WEIGHT_HH), toTorchWeight(rw));
        if (bias) {
            INDArray torchBias = toTorchVector(b);
            params.put(key(layer, direction, ParameterKey.Kind.BIAS_IH), torchBias);
            params.put(key(layer, direction, ParameterKey.Kind.BIAS_HH), biasHh.apply(torchBias));
        }
    }

    private static ParameterKey key(int layer, int direction, ParameterKey.Kind kind) {
        return new ParameterKey(layer, direction, kind);
    }

    /** A (4H, K) weight, gate rows i, f, g, o, to DL4J's [K, 4H]. */
    public static INDArray toDl4jWeight(INDArray torchWeight) {
        long h = torchWeight.size(0) / 4;
        INDArray out = torchWeight.ulike().reshape('c', torchWeight.size(1), 4 * h);
        for (int j = 0; j < 4; j++) {
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(j * h, (j + 1) * h))
                    .assign(torchBlock(torchWeight, TORCH_BLOCK_OF_DL4J[j], h).transpose());
        }
        return out;
    }

    /** DL4J's [K, 4H] weight to (4H, K), gate rows i, f, g, o. */
    public static INDArray toTorchWeight(INDArray dl4jWeight) {
        long h = dl4jWeight.size(1) / 4;
        INDArray out = dl4jWeight.ulike().reshape('c', 4 * h, dl4jWeight.size(0));
        for (int j = 0; j < 4; j++) {
            torchBlock(out, TORCH_BLOCK_OF_DL4J[j], h)
                    .assign(dl4jWeight.get(NDArrayIndex.all(), NDArrayIndex.interval(j * h, (j + 1) * h)).transpose());
        }
        return out;
    }

    /** The two (4H) biases (either may be null = zero) to DL4J's [1, 4H]. */
    public static INDArray toDl4jBias(INDArray biasIh, INDArray biasHh, long hiddenSize, DataType dataType) {
        INDArray sum = Nd4j.zeros(dataType, 4 * hiddenSize);
        if (biasIh != null) sum.addi(biasIh.castTo(dataType).reshape(4 * hiddenSize));
        if (biasHh != null) sum.addi(biasHh.castTo(dataType).reshape(4 * hiddenSize));
        return toDl4jVector(sum).reshape(1, 4 * hiddenSize);
    }

    /** A DL4J [1, 4H] or [4H] vector (a bias or its gradient) to (4H) in the gate order i, f, g, o. */
    public static INDArray toTorchVector(INDArray dl4jVector) {
        INDArray v = dl4jVector.reshape(dl4jVector.length());
        long h = v.length() / 4;
        INDArray out = v.ulike();
        for (int j = 0; j < 4; j++) {
            int t = TORCH_BLOCK_OF_DL4J[j];
            out.get(NDArrayIndex.interval(t * h, (t + 1) * h)).assign(v.get(NDArrayIndex.interval(j * h, (j + 1) * h)));
        }
        return out;
    }

    private static INDArray toDl4jVector(INDArray torchVector) {
        long h = torchVector.length() / 4;
        INDArray out = torchVector.ulike();
        for (int j = 0; j < 4; j++) {
            int t = TORCH_BLOCK_OF_DL4J[j];
            out.get(NDArrayIndex.interval(j * h, (j + 1) * h)).assign(torchVector.get(NDArrayIndex.interval(t * h, (t + 1) * h)));
        }
        return out;
    }

    private static INDArray torchBlock(INDArray torchWeight, int block, long h) {
        return torchWeight.get(NDArrayIndex.interval(block * h, (block + 1) * h), NDArrayIndex.all());
    }
}
