package io.torchlstm4j.kernel;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.LstmLayers;
import io.torchlstm4j.TorchLstm;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.rnn.LastTimeStepVertex;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Arrays;

/**
 * Quick timing of the fast engine through the public API, one case per JVM (not a benchmark: docs/performance.md
 * says how its figures were taken). Arguments: {@code mnist|large forward|gradients|classifier_forward|classifier_train
 * ITERATIONS [alternate]}. Prints the median and quartiles in ms and the process's CPU time per call. Thread count from OMP_NUM_THREADS; the schedule from
 * {@code -Dtorchlstm4j.schedule}.
 */
public final class ScheduleTiming {

    private ScheduleTiming() {
    }

    public static void main(String[] args) {
        boolean mnist = args[0].equals("mnist");
        String kind = args[1];
        int iterations = Integer.parseInt(args[2]);
        LstmConfig config = mnist ? LstmConfig.builder(28, 64).numLayers(2).build()
                : LstmConfig.builder(256, 512).numLayers(2).bidirectional(true).build();
        int steps = mnist ? 28 : 100;
        int batch = 64;
        Runnable work;
        if (kind.startsWith("classifier")) {
            ComputationGraph net = classifier(config);
            INDArray x = Nd4j.rand(DataType.FLOAT, batch, config.inputSize(), steps);
            INDArray y = Nd4j.zeros(DataType.FLOAT, batch, 10);
            for (int i = 0; i < batch; i++) {
                y.putScalar(i, i % 10, 1.0);
            }
            work = kind.equals("classifier_train") ? () -> net.fit(new INDArray[] {x}, new INDArray[] {y})
                    : () -> net.output(x);
        } else {
            TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 1).eval();
            INDArray x = Nd4j.randn(DataType.FLOAT, steps, batch, config.inputSize());
            INDArray dy = Nd4j.randn(DataType.FLOAT, steps, batch, (long) config.numDirections() * config.outputSize());
            work = kind.equals("gradients") ? () -> lstm.gradients(x, null, null, dy) : () -> lstm.forward(x);
        }
        if (args.length > 3 && args[3].equals("alternate")) {
            alternate(args[0] + " " + kind, work, iterations);
            return;
        }
        int warmup = Math.max(3, iterations / 3);
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpuStart = os.getProcessCpuTime();
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            work.run();
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        double cpu = (os.getProcessCpuTime() - cpuStart) / 1e6 / iterations;
        Arrays.sort(ms);
        System.out.printf("%s %s threads=%s schedule=%s median %.3f ms (q1 %.3f, q3 %.3f, n %d), process CPU %.3f ms"
                + " per call%n", args[0], kind, System.getenv("OMP_NUM_THREADS"),
                System.getProperty(LstmKernel.SCHEDULE_PROPERTY, "auto"), ms[iterations / 2], ms[iterations / 4],
                ms[3 * iterations / 4], iterations, cpu);
    }

    /**
     * Times the two schedules call by call in turn (the schedule property is read per call), so that both see the
     * same machine: on a shared machine the load changes within seconds.
     */
    private static void alternate(String name, Runnable work, int iterations) {
        String[] schedules = {"sequential", "auto"};
        for (int i = 0; i < Math.max(6, iterations / 3); i++) {
            System.setProperty(LstmKernel.SCHEDULE_PROPERTY, schedules[i % 2]);
            work.run();
        }
        double[][] ms = new double[2][iterations];
        for (int i = 0; i < iterations; i++) {
            for (int j = 0; j < 2; j++) {
                int which = (i + j) % 2;
                System.setProperty(LstmKernel.SCHEDULE_PROPERTY, schedules[which]);
                long start = System.nanoTime();
                work.run();
                ms[which][i] = (System.nanoTime() - start) / 1e6;
            }
        }
        for (double[] m : ms) {
            Arrays.sort(m);
        }
        System.out.printf("%s threads=%s alternating: sequential median %.3f ms (q1 %.3f), streams at once median %.3f"
                + " ms (q1 %.3f): %.2fx, n %d%n", name, System.getenv("OMP_NUM_THREADS"), ms[0][iterations / 2],
                ms[0][iterations / 4], ms[1][iterations / 2], ms[1][iterations / 4],
                ms[0][iterations / 2] / ms[1][iterations / 2], iterations);
    }

    /** The MNIST tutorial's classifier: the LSTM, its last step, Linear + softmax cross-entropy, Adam. */
    private static ComputationGraph classifier(LstmConfig config) {
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder().seed(1)
                .dataType(DataType.FLOAT).updater(new Adam(1e-3)).graphBuilder().addInputs("x");
        String out = LstmLayers.addTo(graph, "x", config, Engine.FAST, "lstm_");
        graph.addVertex("last", new LastTimeStepVertex("x"), out);
        graph.addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn((long) config.numDirections() * config.outputSize()).nOut(10).activation(Activation.SOFTMAX)
                .build(), "last");
        graph.setOutputs("fc");
        ComputationGraph net = new ComputationGraph(graph.build());
        net.init();
        return net;
    }
}
