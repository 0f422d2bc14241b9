package io.torchlstm4j.engine.fast;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Large calls of two streams (a BiLSTM's directions, a 2-layer stack's wavefront), float32: a fingerprint of every
 * output, h_n, c_n and gradient, so that a process at one thread and one at two can be compared bit for bit. Its
 * {@code main} prints the fingerprints, one per line (run by {@link TwoThreadsKernelTest} in a child JVM).
 */
final class OneThreadBits {

    private OneThreadBits() {
    }

    public static void main(String[] args) {
        fingerprints().forEach(System.out::println);
    }

    /** One line per model: its name and the FNV-1a hash of each result's float bits, in c order. */
    static List<String> fingerprints() {
        List<String> lines = new ArrayList<>();
        lines.add(fingerprint(LstmConfig.builder(48, 67).numLayers(2).bidirectional(true).build(), 64, 60));
        lines.add(fingerprint(LstmConfig.builder(64, 67).numLayers(2).build(), 128, 60));
        return lines;
    }

    private static String fingerprint(LstmConfig config, int batch, int steps) {
        TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 7).train();
        Random random = new Random(3);
        INDArray x = random(random, steps, batch, config.inputSize());
        INDArray dy = random(random, steps, batch, (long) config.numDirections() * config.outputSize());
        LstmOutput out = lstm.forward(x);
        StringBuilder line = new StringBuilder(config.toString());
        line.append(' ').append(hash(out.output())).append(' ').append(hash(out.hN())).append(' ')
                .append(hash(out.cN()));
        for (Map.Entry<String, INDArray> g : lstm.gradients(x, null, null, dy).entrySet()) {
            line.append(' ').append(g.getKey()).append('=').append(hash(g.getValue()));
        }
        return line.toString();
    }

    private static INDArray random(Random random, long... shape) {
        long length = 1;
        for (long s : shape) {
            length *= s;
        }
        float[] values = new float[Math.toIntExact(length)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return Nd4j.create(values, shape, DataType.FLOAT);
    }

    private static String hash(INDArray array) {
        long h = 0xcbf29ce484222325L;
        for (float v : array.dup('c').data().asFloat()) {
            h ^= Float.floatToRawIntBits(v);
            h *= 0x100000001b3L;
        }
        return Long.toHexString(h);
    }
}
