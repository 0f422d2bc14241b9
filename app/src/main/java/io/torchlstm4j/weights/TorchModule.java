package io.torchlstm4j.weights;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The PyTorch modules that surround an LSTM in nearly every model, as values: their constructor arguments, parameter
 * names and shapes (in {@code state_dict()} order) and PyTorch's initialisation. {@link FeedForwardMapping} places
 * them on DL4J layers; {@link ModelWeights} loads and saves whole models by prefix. Immutable: safe for concurrent
 * use.
 */
public sealed interface TorchModule {

    /** Every parameter name (without a prefix) mapped to its PyTorch shape, in state_dict order. */
    Map<String, long[]> parameterShapes();

    /**
     * Fresh parameters drawn as PyTorch's {@code reset_parameters()} draws them (same distributions; the numbers
     * come from {@code random}), in state_dict order.
     */
    Map<String, INDArray> init(DataType dataType, SplittableRandom random);

    /**
     * {@code nn.Linear(in_features, out_features, bias)}: {@code weight} (out_features, in_features) and
     * {@code bias} (out_features), y = x weight^T + bias. PyTorch's init, kaiming_uniform(a=sqrt(5)), is
     * U(-1/sqrt(in_features), 1/sqrt(in_features)) for the weight, and the bias draws from the same range.
     */
    record Linear(long inFeatures, long outFeatures, boolean bias) implements TorchModule {

        /** Sizes of at least 1 (PyTorch allows 0; a DL4J layer does not). */
        public Linear {
            if (inFeatures < 1 || outFeatures < 1) {
                throw new IllegalArgumentException("nn.Linear needs in_features and out_features of at least 1, got "
                        + inFeatures + " and " + outFeatures);
            }
        }

        @Override
        public Map<String, long[]> parameterShapes() {
            Map<String, long[]> shapes = new LinkedHashMap<>();
            shapes.put("weight", new long[] {outFeatures, inFeatures});
            if (bias) shapes.put("bias", new long[] {outFeatures});
            return shapes;
        }

        @Override
        public Map<String, INDArray> init(DataType dataType, SplittableRandom random) {
            double bound = 1.0 / Math.sqrt(inFeatures);
            Map<String, INDArray> params = new LinkedHashMap<>();
            parameterShapes().forEach((name, shape) -> params.put(name, TorchInit.uniform(random, bound, dataType, shape)));
            return params;
        }

        @Override
        public String toString() {
            return "Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias="
                    + (bias ? "True" : "False") + ")";
        }
    }

    /**
     * {@code nn.Embedding(num_embeddings, embedding_dim)}: {@code weight} (num_embeddings, embedding_dim), row i
     * the vector of index i. PyTorch's init is N(0, 1).
     */
    record Embedding(long numEmbeddings, long embeddingDim) implements TorchModule {

        /** Sizes of at least 1. */
        public Embedding {
            if (numEmbeddings < 1 || embeddingDim < 1) {
                throw new IllegalArgumentException("nn.Embedding needs num_embeddings and embedding_dim of at least 1, "
                        + "got " + numEmbeddings + " and " + embeddingDim);
            }
        }

        @Override
        public Map<String, long[]> parameterShapes() {
            return Map.of("weight", new long[] {numEmbeddings, embeddingDim});
        }

        @Override
        public Map<String, INDArray> init(DataType dataType, SplittableRandom random) {
            return Map.of("weight", TorchInit.normal(random, dataType, numEmbeddings, embeddingDim));
        }

        @Override
        public String toString() {
            return "Embedding(" + numEmbeddings + ", " + embeddingDim + ")";
        }
    }
}
