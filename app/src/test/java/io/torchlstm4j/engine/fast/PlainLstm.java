package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.ParameterKey;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/**
 * A slow, obviously-correct {@code torch.nn.LSTM} forward in double precision: one sample, one step, one unit at a
 * time, straight from PyTorch's equations. Packed semantics: sample n runs its first lengths[n] steps (the backward
 * direction from step lengths[n]-1 down to 0), output is 0 elsewhere. No dropout.
 */
final class PlainLstm {

    private PlainLstm() {
    }

    /** (output (L, N, D*H_out), h_n, c_n) as double arrays; h0/c0 may be null. */
    static INDArray[] forward(LstmConfig c, Map<ParameterKey, INDArray> params, INDArray input, INDArray h0,
                              INDArray c0, int[] lengths) {
        int steps = (int) input.size(0);
        int batch = (int) input.size(1);
        int dirs = c.numDirections();
        int hidden = c.hiddenSize();
        int hOut = c.outputSize();
        double[][][] x = toArray(input);
        double[][][] h0s = h0 == null ? null : toArray(h0);
        double[][][] c0s = c0 == null ? null : toArray(c0);
        double[][][] hN = new double[c.stateLayers()][batch][hOut];
        double[][][] cN = new double[c.stateLayers()][batch][hidden];
        double[][][] out = null;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            out = new double[steps][batch][dirs * hOut];
            for (int dir = 0; dir < dirs; dir++) {
                int index = layer * dirs + dir;
                double[][] wIh = matrix(params.get(new ParameterKey(layer, dir, ParameterKey.Kind.WEIGHT_IH)));
                double[][] wHh = matrix(params.get(new ParameterKey(layer, dir, ParameterKey.Kind.WEIGHT_HH)));
                double[] b = new double[4 * hidden];
                if (c.bias()) {
                    double[] bIh = vector(params.get(new ParameterKey(layer, dir, ParameterKey.Kind.BIAS_IH)));
                    double[] bHh = vector(params.get(new ParameterKey(layer, dir, ParameterKey.Kind.BIAS_HH)));
                    for (int r = 0; r < 4 * hidden; r++) {
                        b[r] = bIh[r] + bHh[r];
                    }
                }
                double[][] wHr = c.projSize() > 0
                        ? matrix(params.get(new ParameterKey(layer, dir, ParameterKey.Kind.WEIGHT_HR))) : null;
                for (int n = 0; n < batch; n++) {
                    int length = lengths == null ? steps : lengths[n];
                    double[] h = h0s == null ? new double[hOut] : h0s[index][n].clone();
                    double[] cell = c0s == null ? new double[hidden] : c0s[index][n].clone();
                    for (int s = 0; s < length; s++) {
                        int t = dir == 0 ? s : length - 1 - s;
                        double[] gates = new double[4 * hidden];
                        for (int r = 0; r < 4 * hidden; r++) {
                            double sum = b[r];
                            for (int i = 0; i < wIh[r].length; i++) {
                                sum += wIh[r][i] * x[t][n][i];
                            }
                            for (int j = 0; j < hOut; j++) {
                                sum += wHh[r][j] * h[j];
                            }
                            gates[r] = sum;
                        }
                        double[] r = new double[hidden];
                        for (int j = 0; j < hidden; j++) {
                            double in = sigmoid(gates[j]);
                            double forget = sigmoid(gates[hidden + j]);
                            double candidate = Math.tanh(gates[2 * hidden + j]);
                            double o = sigmoid(gates[3 * hidden + j]);
                            cell[j] = forget * cell[j] + in * candidate;
                            r[j] = o * Math.tanh(cell[j]);
                        }
                        h = wHr == null ? r : multiply(wHr, r);
                        System.arraycopy(h, 0, out[t][n], dir * hOut, hOut);
                    }
                    hN[index][n] = h;
                    cN[index][n] = cell;
                }
            }
            x = out;
        }
        return new INDArray[] {Nd4j.create(out), Nd4j.create(hN), Nd4j.create(cN)};
    }

    /** sum(output * weights) of {@link #forward}. */
    static double weightedSum(LstmConfig c, Map<ParameterKey, INDArray> params, INDArray input, INDArray h0,
                              INDArray c0, int[] lengths, INDArray weights) {
        INDArray output = forward(c, params, input, h0, c0, lengths)[0];
        return output.mul(weights.castTo(DataType.DOUBLE)).sumNumber().doubleValue();
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static double[] multiply(double[][] m, double[] v) {
        double[] result = new double[m.length];
        for (int r = 0; r < m.length; r++) {
            for (int j = 0; j < v.length; j++) {
                result[r] += m[r][j] * v[j];
            }
        }
        return result;
    }

    private static double[][] matrix(INDArray a) {
        double[] flat = vector(a);
        int cols = (int) a.size(1);
        double[][] result = new double[(int) a.size(0)][cols];
        for (int r = 0; r < result.length; r++) {
            System.arraycopy(flat, r * cols, result[r], 0, cols);
        }
        return result;
    }

    private static double[] vector(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private static double[][][] toArray(INDArray a) {
        double[] flat = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        int rows = (int) a.size(1);
        int cols = (int) a.size(2);
        double[][][] result = new double[(int) a.size(0)][rows][cols];
        for (int i = 0; i < result.length; i++) {
            for (int j = 0; j < rows; j++) {
                System.arraycopy(flat, (i * rows + j) * cols, result[i][j], 0, cols);
            }
        }
        return result;
    }
}
