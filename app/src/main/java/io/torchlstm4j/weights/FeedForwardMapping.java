package io.torchlstm4j.weights;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingLayer;
import org.deeplearning4j.nn.conf.layers.EmbeddingSequenceLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one place that maps {@code nn.Linear} and {@code nn.Embedding} parameters to DL4J's layers and back.
 *
 * <table>
 * <caption>PyTorch to DL4J</caption>
 * <tr><th>PyTorch</th><th>DL4J layer</th><th>DL4J parameter</th></tr>
 * <tr><td>Linear weight (out, in)</td><td>DenseLayer, OutputLayer (any BaseOutputLayer with W and b)</td>
 *     <td>W [in, out] = weight^T</td></tr>
 * <tr><td>Linear bias (out)</td><td>the same layer, hasBias(true)</td><td>b [1, out] = bias</td></tr>
 * <tr><td>Embedding weight (num_embeddings, dim)</td><td>EmbeddingLayer, EmbeddingSequenceLayer, hasBias(false)</td>
 *     <td>W [num_embeddings, dim] = weight</td></tr>
 * </table>
 * The layer's activation is not part of the weights: a DenseLayer with activation IDENTITY is {@code nn.Linear}
 * alone, one with RELU is {@code nn.Linear} then {@code nn.ReLU}; an OutputLayer with SOFTMAX and MCXENT is
 * {@code nn.Linear} trained with {@code CrossEntropyLoss}. An embedding layer's activation must be IDENTITY for the
 * lookup alone (DL4J's global default activation is SIGMOID). Stateless: safe for concurrent use (on layers no
 * other thread writes).
 */
public final class FeedForwardMapping {

    /** One parameter: PyTorch's name, DL4J's key, and whether DL4J holds it transposed. */
    private record Parameter(String torchName, String dl4jKey, boolean transposed) {
    }

    private static final List<Parameter> LINEAR = List.of(
            new Parameter("weight", DefaultParamInitializer.WEIGHT_KEY, true),
            new Parameter("bias", DefaultParamInitializer.BIAS_KEY, false));
    private static final List<Parameter> EMBEDDING = List.of(
            new Parameter("weight", DefaultParamInitializer.WEIGHT_KEY, false));

    private FeedForwardMapping() {
    }

    /**
     * The {@code nn.Linear} a DL4J DenseLayer or output layer holds (in_features = nIn, out_features = nOut, bias =
     * hasBias), or null with the reason added to {@code problems} when the layer is of another kind.
     *
     * @param name the layer's name in messages
     */
    public static TorchModule.Linear linearOf(Layer layer, String name, List<String> problems) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        boolean bias = conf instanceof DenseLayer d ? d.hasBias() : conf instanceof BaseOutputLayer o && o.hasBias();
        if (!(conf instanceof DenseLayer || conf instanceof BaseOutputLayer)
                || !hasExactly(layer, bias ? Set.of("W", "b") : Set.of("W"))) {
            problems.add(name + " is nn.Linear but DL4J layer " + describe(layer) + " is not a DenseLayer or an "
                    + "OutputLayer with parameters W and b");
            return null;
        }
        FeedForwardLayer f = (FeedForwardLayer) conf;
        return new TorchModule.Linear(f.getNIn(), f.getNOut(), bias);
    }

    /**
     * The {@code nn.Embedding} a DL4J EmbeddingLayer or EmbeddingSequenceLayer holds (num_embeddings = nIn,
     * embedding_dim = nOut), or null with the reason added to {@code problems} when the layer is of another kind or
     * has a bias (nn.Embedding has none).
     */
    public static TorchModule.Embedding embeddingOf(Layer layer, String name, List<String> problems) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        if (!(conf instanceof EmbeddingLayer || conf instanceof EmbeddingSequenceLayer)) {
            problems.add(name + " is nn.Embedding but DL4J layer " + describe(layer) + " is not an EmbeddingLayer or "
                    + "an EmbeddingSequenceLayer");
            return null;
        }
        if (!hasExactly(layer, Set.of("W"))) {
            problems.add(name + " is nn.Embedding, which has no bias, but DL4J layer " + describe(layer)
                    + " has one: build it with hasBias(false)");
            return null;
        }
        FeedForwardLayer f = (FeedForwardLayer) conf;
        return new TorchModule.Embedding(f.getNIn(), f.getNOut());
    }

    /** Copies the module's PyTorch parameters (names and shapes already checked) into the DL4J layer, in place. */
    public static void load(TorchModule module, Layer layer, Map<String, INDArray> params) {
        for (Parameter p : parameters(module)) {
            INDArray target = layer.getParam(p.dl4jKey());
            INDArray source = params.get(p.torchName()).castTo(target.dataType());
            target.assign(p.transposed() ? source.transpose() : source.reshape(target.shape()));
        }
    }

    /** The DL4J layer's parameters under the module's PyTorch names and shapes (copies), in state_dict order. */
    public static Map<String, INDArray> stateDict(TorchModule module, Layer layer) {
        Map<String, INDArray> torch = new LinkedHashMap<>();
        Map<String, long[]> shapes = module.parameterShapes();
        for (Parameter p : parameters(module)) {
            INDArray dl4j = layer.getParam(p.dl4jKey());
            torch.put(p.torchName(), (p.transposed() ? dl4j.transpose() : dl4j.reshape(shapes.get(p.torchName())))
                    .dup('c'));
        }
        return torch;
    }

    private static List<Parameter> parameters(TorchModule module) {
        List<Parameter> all = module instanceof TorchModule.Linear ? LINEAR : EMBEDDING;
        Map<String, long[]> shapes = module.parameterShapes();
        return all.stream().filter(p -> shapes.containsKey(p.torchName())).toList();
    }

    private static boolean hasExactly(Layer layer, Set<String> keys) {
        return layer.paramTable().keySet().equals(keys);
    }

    private static String describe(Layer layer) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        return "'" + conf.getLayerName() + "' (" + conf.getClass().getSimpleName() + ")";
    }
}
