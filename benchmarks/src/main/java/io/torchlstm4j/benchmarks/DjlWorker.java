package io.torchlstm4j.benchmarks;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * DJL's side of the benchmark: DJL's PyTorch engine on libtorch (variant {@code djl}), the way a DJL user writes
 * it: a {@link SequentialBlock} of DJL's {@link LSTM} (which calls libtorch's fused {@code torch::lstm}), the last
 * time step and a {@link Linear}; training through a {@link Trainer} with softmax cross-entropy and Adam.
 * Bidirectional LSTMs use {@link DjlBidirectionalLstm} (the same libtorch call; DJL's own block fails on them).
 * Each iteration's intermediate arrays live in a sub-manager closed after it.
 *
 * <p>Runs offline: run.sh passes {@code -Dai.djl.offline=true}; the natives come from the
 * {@code pytorch-native-cpu} classifier jar on the class path (extracted once into DJL's cache directory) and the
 * JNI library from the {@code pytorch-jni} jar. Threads: {@code ai.djl.pytorch.num_threads} and
 * {@code ai.djl.pytorch.num_interop_threads} system properties.
 */
public final class DjlWorker {

    private DjlWorker() {
    }

    public static void main(String[] args) throws Exception {
        Engine engine = Engine.getEngine("PyTorch");
        Worker.main(args, DjlWorker::create, () -> info(engine));
    }

    private static Worker.Workload create(Spec spec) {
        if (!spec.variant().equals("djl")) {
            throw new UnsupportedOperationException("DJL has no variant " + spec.variant());
        }
        NDManager manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(1);
        Shape inputShape = new Shape(spec.inputShape());
        return switch (spec.kind()) {
            case "classifier_train" -> {
                Model model = Model.newInstance("classifier", "PyTorch");
                model.setBlock(classifier(spec));
                Trainer trainer = model.newTrainer(new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(Optimizer.adam().optLearningRateTracker(
                                Tracker.fixed((float) spec.learningRate())).build()));
                trainer.initialize(inputShape);
                NDArray x = manager.randomUniform(0, 1, inputShape);
                NDArray y = manager.randomInteger(0, spec.classes(), new Shape(spec.batch()), DataType.INT64);
                yield () -> {
                    try (NDManager step = manager.newSubManager()) {
                        NDArray xs = x.duplicate();
                        xs.attach(step);
                        NDArray ys = y.duplicate();
                        ys.attach(step);
                        try (GradientCollector collector = trainer.newGradientCollector()) {
                            NDList prediction = trainer.forward(new NDList(xs));
                            NDArray loss = trainer.getLoss().evaluate(new NDList(ys), prediction);
                            collector.backward(loss);
                        }
                        trainer.step();
                    }
                };
            }
            case "classifier_forward" -> forward(manager, classifier(spec), new NDList(
                    manager.randomUniform(0, 1, inputShape)), inputShape);
            case "lstm_forward" -> {
                NDList inputs = new NDList(manager.randomNormal(inputShape));
                if (spec.withState()) {
                    Shape state = new Shape((long) spec.directions() * spec.numLayers(), spec.batch(), spec.hiddenSize());
                    inputs.add(manager.randomNormal(state));
                    inputs.add(manager.randomNormal(state));
                }
                yield forward(manager, lstm(spec), inputs, inputShape);
            }
            case "lstm_step", "lstm_step_unbatched" -> step(manager, spec);
            default -> throw new UnsupportedOperationException("DJL has no workload " + spec.kind());
        };
    }

    /** Inference: parameters without gradients, so libtorch records no autograd graph. */
    private static Worker.Workload forward(NDManager manager, Block block, NDList inputs, Shape inputShape) {
        block.initialize(manager, DataType.FLOAT32, inputShape);
        ParameterStore parameters = new ParameterStore(manager, false);
        return () -> {
            try (NDManager step = manager.newSubManager()) {
                NDList copies = new NDList();
                for (NDArray input : inputs) {
                    NDArray copy = input.duplicate();
                    copy.attach(step);
                    copies.add(copy);
                }
                block.forward(parameters, copies, false);
            }
        };
    }

    /**
     * On-line inference: each call runs DJL's LSTM block on one short input from the (h, c) the previous call returned,
     * which stay in the model's manager from one call to the next (the call's other arrays live in a sub-manager
     * closed after it). DJL's block and libtorch's lstm op take batched tensors only, so the unbatched kind adds the
     * batch axis to the input and removes it from the output, as a DJL user would (PyTorch's nn.LSTM does the same
     * inside).
     */
    private static Worker.Workload step(NDManager manager, Spec spec) {
        if (spec.bidirectional() || spec.batchFirst()) {
            throw new UnsupportedOperationException("DJL on-line steps are unidirectional, (L, N, H_in) only");
        }
        Block block = LSTM.builder().setStateSize(spec.hiddenSize()).setNumLayers(spec.numLayers())
                .optReturnState(true).build();
        Shape batched = new Shape(spec.seqLen(), spec.batch(), spec.inputSize());
        block.initialize(manager, DataType.FLOAT32, batched);
        ParameterStore parameters = new ParameterStore(manager, false);
        NDArray x = manager.randomNormal(new Shape(spec.inputShape()));
        Shape stateShape = new Shape(spec.numLayers(), spec.batch(), spec.hiddenSize());
        NDArray[] state = {manager.zeros(stateShape), manager.zeros(stateShape)};
        boolean unbatched = spec.unbatched();
        return () -> {
            NDArray[] previous = state.clone();
            try (NDManager step = manager.newSubManager()) {
                x.tempAttach(step);
                previous[0].tempAttach(step);
                previous[1].tempAttach(step);
                NDList out = block.forward(parameters, new NDList(unbatched ? x.expandDims(1) : x, previous[0],
                        previous[1]), false);
                if (unbatched) {
                    out.get(0).squeeze(1);
                }
                state[0] = out.get(1);
                state[1] = out.get(2);
                state[0].attach(manager);
                state[1].attach(manager);
            }
            previous[0].close();
            previous[1].close();
        };
    }

    /** DJL's own LSTM block; bidirectional ones go through {@link DjlBidirectionalLstm} (DJL 0.36.0 bug). */
    private static Block lstm(Spec spec) {
        if (spec.bidirectional()) {
            return new DjlBidirectionalLstm(spec.inputSize(), spec.hiddenSize(), spec.numLayers(), spec.batchFirst());
        }
        return LSTM.builder().setStateSize(spec.hiddenSize()).setNumLayers(spec.numLayers())
                .optBidirectional(spec.bidirectional()).optBatchFirst(spec.batchFirst()).optReturnState(false).build();
    }

    private static Block classifier(Spec spec) {
        boolean batchFirst = spec.batchFirst();
        return new SequentialBlock()
                .add(lstm(spec))
                .add(list -> new NDList(batchFirst ? list.head().get(":, -1, :") : list.head().get("-1, :, :")))
                .add(Linear.builder().setUnits(spec.classes()).build());
    }

    private static Map<String, String> info(Engine engine) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("framework", "DJL " + Engine.getDjlVersion() + " on libtorch " + engine.getVersion());
        info.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        info.put("JVM options", Worker.jvmOptions());
        info.put("libtorch.features", String.join(",", JniUtils.getFeatures()));
        info.put("libtorch.num_threads", Integer.toString(JniUtils.getNumThreads()));
        info.put("libtorch.num_interop_threads", Integer.toString(JniUtils.getNumInteropThreads()));
        return info;
    }
}
