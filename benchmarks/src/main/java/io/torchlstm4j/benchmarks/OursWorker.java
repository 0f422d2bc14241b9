package io.torchlstm4j.benchmarks;

import io.torchlstm4j.LstmLayers;
import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmState;
import io.torchlstm4j.platform.NativePlatform;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas_nolapack;
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

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * This project's side of the benchmark: the variant is an {@link Engine} name, or {@value #WITHOUT_LSTM} for the
 * classifiers with their LSTM taken out (the start-up table's floor: DL4J and ND4J before any LSTM).
 *
 * <ul>
 *   <li>classifier_train / classifier_forward: a DL4J ComputationGraph built with {@link LstmLayers} (input NCW,
 *       the LSTM, {@code LastTimeStepVertex}, softmax {@code OutputLayer} with MCXENT, Adam), trained with
 *       {@code fit}, run with {@code output}: what a DL4J user writes.</li>
 *   <li>lstm_forward: {@link TorchLstm#forward} in eval mode, PyTorch's layout and (h0, c0).</li>
 *   <li>lstm_step, lstm_step_unbatched: {@link TorchLstm#forward} in eval mode on one short input, each call from
 *       the (h_n, c_n) the previous call returned (on-line inference).</li>
 *   <li>lstm_forward_raw: the same instance's {@code network().output(...)} on NCW input: the DL4J network the
 *       adapter drives, without the adapter (its overhead is lstm_forward / lstm_forward_raw - 1).</li>
 * </ul>
 */
public final class OursWorker {

    /** The variant of the classifier without its LSTM (start-up table only). */
    static final String WITHOUT_LSTM = "WITHOUT_LSTM";
    /** The info key of the sgemm rate this worker measures (the report's peak column and the 90% goal read it). */
    static final String SGEMM_INFO = "measured sgemm 1024^3 through those kernels";

    private static final String LSTM_PREFIX = "lstm_";
    private static final long SEED = 1;

    private OursWorker() {
    }

    public static void main(String[] args) throws Exception {
        Worker.main(args, OursWorker::create, OursWorker::info);
    }

    private static Worker.Workload create(Spec spec) {
        Nd4j.getRandom().setSeed(SEED);
        Engine engine = spec.variant().equals(WITHOUT_LSTM) ? null : Engine.valueOf(spec.variant());
        if (engine == null && !spec.kind().startsWith("classifier_")) {
            throw new IllegalArgumentException(WITHOUT_LSTM + " has classifiers only, not " + spec.kind());
        }
        return switch (spec.kind()) {
            case "classifier_train" -> {
                ComputationGraph net = classifier(spec, engine);
                INDArray[] x = {Nd4j.rand(DataType.FLOAT, spec.batch(), spec.inputSize(), spec.seqLen())};
                INDArray[] y = {oneHotLabels(spec)};
                yield () -> net.fit(x, y);
            }
            case "classifier_forward" -> {
                ComputationGraph net = classifier(spec, engine);
                INDArray x = Nd4j.rand(DataType.FLOAT, spec.batch(), spec.inputSize(), spec.seqLen());
                yield () -> net.output(x);
            }
            case "lstm_forward" -> {
                TorchLstm lstm = TorchLstm.create(config(spec), engine, DataType.FLOAT, SEED).eval();
                INDArray x = Nd4j.randn(DataType.FLOAT, spec.inputShape());
                long[] stateShape = {(long) spec.directions() * spec.numLayers(), spec.batch(), spec.hiddenSize()};
                LstmState state = spec.withState()
                        ? new LstmState(Nd4j.randn(DataType.FLOAT, stateShape), Nd4j.randn(DataType.FLOAT, stateShape))
                        : null;
                yield () -> lstm.forward(x, state);
            }
            case "lstm_step", "lstm_step_unbatched" -> {
                TorchLstm lstm = TorchLstm.create(config(spec), engine, DataType.FLOAT, SEED).eval();
                INDArray x = Nd4j.randn(DataType.FLOAT, spec.inputShape());
                LstmState[] state = {null};
                yield () -> state[0] = lstm.forward(x, state[0]).state();
            }
            case "lstm_forward_raw" -> {
                TorchLstm lstm = TorchLstm.create(config(spec), engine, DataType.FLOAT, SEED).eval();
                ComputationGraph net = lstm.network();
                INDArray x = Nd4j.rand(DataType.FLOAT, spec.batch(), spec.inputSize(), spec.seqLen());
                yield () -> net.output(x);
            }
            default -> throw new IllegalArgumentException("unknown kind " + spec.kind());
        };
    }

    private static LstmConfig config(Spec spec) {
        return LstmConfig.builder(spec.inputSize(), spec.hiddenSize()).numLayers(spec.numLayers())
                .bidirectional(spec.bidirectional()).batchFirst(spec.batchFirst()).build();
    }

    /**
     * LSTM, output at the last step, Linear + softmax cross-entropy, Adam: the tutorial's MNIST classifier. Without
     * an engine (null) the LSTM is taken out and the input's last step goes straight into the Linear layer: the
     * start-up table's floor, what DL4J and ND4J cost before any LSTM.
     */
    static ComputationGraph classifier(Spec spec, Engine engine) {
        LstmConfig config = config(spec);
        ComputationGraphConfiguration.GraphBuilder graph = new NeuralNetConfiguration.Builder()
                .seed(SEED)
                .dataType(DataType.FLOAT)
                .updater(new Adam(spec.learningRate()))
                .graphBuilder()
                .addInputs("x");
        String lstmOut = engine == null ? "x" : LstmLayers.addTo(graph, "x", config, engine, LSTM_PREFIX);
        long features = engine == null ? config.inputSize() : (long) config.numDirections() * config.outputSize();
        graph.addVertex("last", new LastTimeStepVertex("x"), lstmOut);
        graph.addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nIn(features).nOut(spec.classes()).activation(Activation.SOFTMAX).build(), "last");
        graph.setOutputs("fc");
        ComputationGraph net = new ComputationGraph(graph.build());
        net.init();
        if (engine != null) {
            LstmLayers.initLikeTorch(net, LSTM_PREFIX, config, engine, SEED);
        }
        return net;
    }

    private static INDArray oneHotLabels(Spec spec) {
        INDArray labels = Nd4j.zeros(DataType.FLOAT, spec.batch(), spec.classes());
        for (int i = 0; i < spec.batch(); i++) {
            labels.putScalar(i, Nd4j.getRandom().nextInt(spec.classes()), 1.0);
        }
        return labels;
    }

    private static Map<String, String> info() {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("framework", "TorchLSTM4j on DL4J " + mavenVersion("org.deeplearning4j", "deeplearning4j-nn"));
        info.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        info.put("JVM options", Worker.jvmOptions());
        info.put("JavaCPP maxPhysicalBytes", Long.toString(Pointer.maxPhysicalBytes())
                + (Pointer.maxPhysicalBytes() == 0 ? " (no resident-memory check per native allocation)"
                : " (JavaCPP reads the resident memory at every native allocation)"));
        info.put("nd4j.backend", Nd4j.getBackend().getClass().getSimpleName() + " (nd4j-native "
                + mavenVersion("org.nd4j", "nd4j-native") + "), BLAS " + Nd4j.factory().blas().getBlasVendor());
        info.put("nd4j.maxThreads", Integer.toString(Nd4j.getEnvironment().maxThreads()));
        info.put("nd4j.maxMasterThreads", Integer.toString(Nd4j.getEnvironment().maxMasterThreads()));
        NativePlatform.Status platform = NativePlatform.initialize();
        info.put("OpenBLAS kernels (FAST engine)", platform.openblasKernels());
        info.put("gate math (FAST engine, float32)", (platform.nativeGateMath() ? "native" : "Java loops")
                + " (library: " + platform.nativeLibrary() + ")");
        info.put(SGEMM_INFO, String.format(Locale.ROOT,
                "%.0f GFLOP/s (best of 5; a practical peak, since the reported clock omits boost)", sgemmGflops()));
        return info;
    }

    /** Best of five row-major 1024 x 1024 x 1024 sgemm calls through the FAST engine's OpenBLAS. */
    private static double sgemmGflops() {
        int n = 1024;
        float[] a = new float[n * n];
        float[] b = new float[n * n];
        float[] c = new float[n * n];
        Arrays.fill(a, 0.5f);
        Arrays.fill(b, 0.25f);
        try (FloatPointer pa = new FloatPointer(a); FloatPointer pb = new FloatPointer(b);
             FloatPointer pc = new FloatPointer(c)) {
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 6; i++) {
                long start = System.nanoTime();
                openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                        openblas_nolapack.CblasNoTrans, n, n, n, 1f, pa, n, pb, n, 0f, pc, n);
                if (i > 0) {
                    best = Math.min(best, System.nanoTime() - start);
                }
            }
            return 2.0 * n * n * n / best;
        }
    }

    static String mavenVersion(String group, String artifact) {
        String resource = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = OursWorker.class.getResourceAsStream(resource)) {
            if (in == null) {
                return "(unknown version)";
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version", "(unknown version)");
        } catch (IOException e) {
            return "(unknown version: " + e.getMessage() + ")";
        }
    }
}
