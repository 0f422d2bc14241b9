package io.torchlstm4j.weights;

import io.torchlstm4j.core.LstmConfig;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A whole PyTorch model's state_dict on DL4J: each PyTorch module (by its attribute name as prefix, e.g.
 * {@code embed.}, {@code rnn.}, {@code fc.}) bound to where its parameters live in Java, so that the whole
 * {@code model.state_dict()} loads, saves and initialises at once.
 *
 * <pre>
 * ModelWeights weights = ModelWeights.builder()
 *         .embedding("embed.", embedLayer)   // nn.Embedding  on a DL4J EmbeddingLayer / EmbeddingSequenceLayer
 *         .lstm("rnn.", lstm)                // nn.LSTM       on a TorchLstm (or LstmLayers in a graph, or DL4J's own LSTM layers)
 *         .linear("fc.", headLayer)          // nn.Linear     on a DL4J DenseLayer / OutputLayer
 *         .build();
 * weights.load(StateDicts.readAll(file), file.toString());
 * </pre>
 *
 * Loading is PyTorch's {@code load_state_dict(strict=True)}: every missing key, unexpected key, shape mismatch and
 * unsupported dtype of the whole model is reported at once, by its full name, before anything is changed. A DL4J
 * layer of the wrong kind is reported by {@link Builder#build} (all of them at once). The mapping of each module
 * is {@link FeedForwardMapping}'s and {@link io.torchlstm4j.core.GateMapping}'s.
 *
 * <p>Not safe for concurrent use with anything that reads or writes the bound layers' parameters.
 */
public final class ModelWeights {

    /** One module: its prefix, PyTorch description, names and shapes, and how to move its tensors. */
    private record Part(String prefix, String module, Map<String, long[]> shapes, DataType dataType,
                        Consumer<Map<String, INDArray>> load, Supplier<Map<String, INDArray>> export,
                        Function<SplittableRandom, Map<String, INDArray>> init) {
    }

    private final List<Part> parts;

    private ModelWeights(List<Part> parts) {
        this.parts = List.copyOf(parts);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every parameter's full name (prefix included) with its PyTorch shape, in state_dict order. */
    public Map<String, long[]> expectedShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Part p : parts) {
            p.shapes().forEach((name, shape) -> shapes.put(p.prefix() + name, shape));
        }
        return shapes;
    }

    /**
     * Replaces every parameter with the state_dict's (full names, prefixes included), converted to each layer's
     * dtype.
     *
     * @param source where the tensors came from, for the message (a file name, or "state_dict")
     * @throws IllegalArgumentException listing every problem, before anything is changed
     */
    public void load(Map<String, INDArray> stateDict, String source) {
        StateDictValidator.validate(expectedShapes(), stateDict, source, toString());
        for (Part p : parts) {
            Map<String, INDArray> own = new LinkedHashMap<>();
            p.shapes().keySet().forEach(name -> own.put(name, stateDict.get(p.prefix() + name)));
            p.load().accept(own);
        }
    }

    /** Copies of every parameter under its full PyTorch name, in state_dict order. */
    public Map<String, INDArray> stateDict() {
        Map<String, INDArray> stateDict = new LinkedHashMap<>();
        for (Part p : parts) {
            p.export().get().forEach((name, tensor) -> stateDict.put(p.prefix() + name, tensor));
        }
        return stateDict;
    }

    /**
     * PyTorch's initialisation of every module (LSTM and Linear: U(-1/sqrt(fan), 1/sqrt(fan)); Embedding: N(0, 1)),
     * drawn from one generator seeded with {@code seed}, module after module in state_dict order.
     */
    public void initLikeTorch(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Map<String, INDArray> stateDict = new LinkedHashMap<>();
        for (Part p : parts) {
            p.init().apply(random).forEach((name, tensor) -> stateDict.put(p.prefix() + name, tensor));
        }
        load(stateDict, "initLikeTorch(" + seed + ")");
    }

    /** The model as PyTorch prints it, e.g. {@code Model(embed: Embedding(40, 16), fc: Linear(...))}. */
    @Override
    public String toString() {
        List<String> modules = new ArrayList<>();
        for (Part p : parts) {
            modules.add((p.prefix().isEmpty() ? "" : p.prefix().substring(0, p.prefix().length() - 1) + ": ")
                    + p.module());
        }
        return "Model(" + String.join(", ", modules) + ")";
    }

    /** Binds modules in their state_dict order. Not safe for concurrent use. */
    public static final class Builder {

        private final List<Part> parts = new ArrayList<>();
        private final List<String> problems = new ArrayList<>();

        private Builder() {
        }

        /** {@code nn.Linear} at {@code prefix} (e.g. {@code "fc."}) on a DL4J DenseLayer or output layer. */
        public Builder linear(String prefix, Layer layer) {
            TorchModule.Linear module = FeedForwardMapping.linearOf(layer, name(prefix), problems);
            return module == null ? this : feedForward(prefix, module, layer);
        }

        /** {@code nn.Embedding} at {@code prefix} on a DL4J EmbeddingLayer or EmbeddingSequenceLayer. */
        public Builder embedding(String prefix, Layer layer) {
            TorchModule.Embedding module = FeedForwardMapping.embeddingOf(layer, name(prefix), problems);
            return module == null ? this : feedForward(prefix, module, layer);
        }

        /**
         * {@code nn.LSTM} at {@code prefix} on a {@code TorchLstm}, or on the vertices {@code LstmLayers.addTo} added
         * to a graph ({@code LstmLayers.module(net, vertexPrefix, config, engine)}).
         */
        public Builder lstm(String prefix, LstmModule lstm) {
            return lstm(prefix, lstm.config(), lstm.dataType(), lstm::loadStateDict, lstm::stateDict);
        }

        /**
         * {@code nn.LSTM} at {@code prefix} on DL4J's own LSTM and Bidirectional(LSTM) layers; their problems
         * ({@link Dl4jLstms#problems}) are reported by {@link #build}.
         */
        public Builder lstm(String prefix, Dl4jLstms layers) {
            problems.addAll(layers.problems().stream().map(p -> name(prefix) + ": " + p).toList());
            return layers.problems().isEmpty()
                    ? lstm(prefix, layers.config(), layers.dataType(), layers::load, layers::stateDict) : this;
        }

        /**
         * The bound modules.
         *
         * @throws IllegalArgumentException naming every layer that cannot hold its module, and every prefix bound
         *                                  twice
         */
        public ModelWeights build() {
            List<String> all = new ArrayList<>(problems);
            List<String> prefixes = parts.stream().map(Part::prefix).toList();
            prefixes.stream().distinct().filter(p -> prefixes.indexOf(p) != prefixes.lastIndexOf(p))
                    .forEach(p -> all.add("the prefix '" + p + "' is bound to more than one module"));
            if (!all.isEmpty()) {
                throw new IllegalArgumentException("the DL4J layers cannot hold the PyTorch model:\n\t"
                        + String.join("\n\t", all));
            }
            return new ModelWeights(parts);
        }

        private Builder feedForward(String prefix, TorchModule module, Layer layer) {
            DataType dataType = layer.getParam(DefaultParamInitializer.WEIGHT_KEY).dataType();
            parts.add(new Part(prefix(prefix), module.toString(), module.parameterShapes(), dataType,
                    sd -> FeedForwardMapping.load(module, layer, sd), () -> FeedForwardMapping.stateDict(module, layer),
                    random -> module.init(dataType, random)));
            return this;
        }

        private Builder lstm(String prefix, LstmConfig config, DataType dataType,
                             Consumer<Map<String, INDArray>> load, Supplier<Map<String, INDArray>> export) {
            parts.add(new Part(prefix(prefix), config.toString(),
                    TorchParameterNames.expectedShapes(config), dataType, load, export,
                    random -> TorchInit.lstmStateDict(config, dataType, random)));
            return this;
        }

        private static String prefix(String prefix) {
            return prefix == null ? "" : prefix;
        }

        private static String name(String prefix) {
            return prefix == null || prefix.isEmpty() ? "the model" : prefix.endsWith(".")
                    ? prefix.substring(0, prefix.length() - 1) : prefix;
        }
    }
}
