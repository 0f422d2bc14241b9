package io.torchlstm4j;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelInference;
import org.deeplearning4j.parallelism.inference.InferenceMode;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * How to serve a network built with {@link LstmLayers} from many threads: DL4J's ParallelInference, which gives each
 * worker its own copy of the network. Every output from 6 calling threads through 3 workers is bit-identical to the
 * network's own output for the same input, made alone.
 */
class ParallelInferenceTest {

    @Test
    void parallelInferenceServesAnLstmLayersNetworkWithTheBitsOfTheCallMadeAlone() throws Exception {
        LstmConfig config = LstmConfig.builder(5, 8).numLayers(2).bidirectional(true).build();
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT).graphBuilder().addInputs("input")
                .setInputTypes(InputType.recurrent(config.inputSize()));
        graph.setOutputs(LstmLayers.addTo(graph, "input", config, Engine.FAST, ""));
        ComputationGraph net = new ComputationGraph(graph.build());
        net.init();
        LstmLayers.initLikeTorch(net, "", config, Engine.FAST, 3);
        Random random = new Random(4);
        List<INDArray> inputs = new ArrayList<>();
        List<double[]> alone = new ArrayList<>();
        for (int[] shape : new int[][] {{1, 3}, {4, 7}, {2, 11}, {6, 2}}) {
            INDArray x = ConcurrentCallsTest.random(random, DataType.FLOAT, shape[0], config.inputSize(), shape[1]);
            inputs.add(x);
            alone.add(ConcurrentCallsTest.bits(net.output(x)[0]));
        }
        ParallelInference inference = new ParallelInference.Builder(net).inferenceMode(InferenceMode.SEQUENTIAL)
                .workers(3).build();
        ExecutorService callers = Executors.newFixedThreadPool(6);
        AtomicInteger same = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                int thread = t;
                futures.add(callers.submit(() -> {
                    for (int i = 0; i < 12; i++) {
                        int which = (thread + i) % inputs.size();
                        double[] got = ConcurrentCallsTest.bits(inference.output(inputs.get(which)));
                        calls.incrementAndGet();
                        if (Arrays.equals(alone.get(which), got)) {
                            same.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
        } finally {
            callers.shutdownNow();
            inference.shutdown();
        }
        assertEquals(calls.get(), same.get(), (calls.get() - same.get()) + " of " + calls.get()
                + " outputs differ from the network's own output for the same input");
        assertEquals(72, calls.get());
    }
}
