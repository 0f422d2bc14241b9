package io.torchlstm4j.benchmarks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A bidirectional LSTM for DJL's PyTorch engine: the same libtorch call as DJL's own
 * {@link ai.djl.nn.recurrent.LSTM} ({@code NDArrayEx.lstm}, i.e. {@code torch::lstm}), with the parameters in the
 * order libtorch reads them (per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh).
 *
 * <p>Why it exists: DJL 0.36.0's {@code LSTM} with {@code optBidirectional(true)} fails on the PyTorch engine
 * ("The size of tensor a (10) must match the size of tensor b (20) at non-singleton dimension 1" for
 * LSTM(10, 20)) because it registers its parameters as [l_0 weights, r_0 weights, l_0 biases, r_0 biases] and
 * passes them in that order, so libtorch takes r_0's input weight for l_0's bias. Unidirectional LSTMs are not
 * affected and use DJL's own block in this benchmark.
 */
final class DjlBidirectionalLstm extends AbstractBlock {

    private final int hiddenSize;
    private final int numLayers;
    private final boolean batchFirst;

    DjlBidirectionalLstm(int inputSize, int hiddenSize, int numLayers, boolean batchFirst) {
        this.hiddenSize = hiddenSize;
        this.numLayers = numLayers;
        this.batchFirst = batchFirst;
        for (int layer = 0; layer < numLayers; layer++) {
            long in = layer == 0 ? inputSize : 2L * hiddenSize;
            for (String suffix : new String[] {"", "_reverse"}) {
                addParameter(weight("weight_ih_l" + layer + suffix, new Shape(4L * hiddenSize, in)));
                addParameter(weight("weight_hh_l" + layer + suffix, new Shape(4L * hiddenSize, hiddenSize)));
                addParameter(bias("bias_ih_l" + layer + suffix));
                addParameter(bias("bias_hh_l" + layer + suffix));
            }
        }
    }

    private static Parameter weight(String name, Shape shape) {
        return Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).optShape(shape).build();
    }

    private Parameter bias(String name) {
        return Parameter.builder().setName(name).setType(Parameter.Type.BIAS).optShape(new Shape(4L * hiddenSize))
                .build();
    }

    /** Inputs: x, or x, h0, c0; output: the top layer's output (like DJL's LSTM with returnState false). */
    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.head();
        NDList state;
        if (inputs.size() == 3) {
            state = new NDList(inputs.get(1), inputs.get(2));
        } else {
            Shape shape = new Shape(2L * numLayers, x.getShape().get(batchFirst ? 0 : 1), hiddenSize);
            state = new NDList(x.getManager().zeros(shape), x.getManager().zeros(shape));
        }
        NDList weights = new NDList();
        for (Parameter parameter : parameters.values()) {
            weights.add(parameterStore.getValue(parameter, x.getDevice(), training));
        }
        NDList out = x.getNDArrayInternal().lstm(x, state, weights, true, numLayers, 0, training, true, batchFirst);
        return new NDList(out.head());
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {new Shape(in.get(0), in.get(1), 2L * hiddenSize)};
    }
}
