package io.torchlstm4j;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's example, line for line, so the README cannot drift from what the library does. */
class ReadmeExampleTest {

    @Test
    void readmeExamplePrintsPyTorchShapesAndTheTutorialEqualities() {
        // --- README example start ---
        LstmConfig config = LstmConfig.builder(10, 20).numLayers(2).bidirectional(true).build();
        TorchLstm bilstm = TorchLstm.create(config);                     // float32, PyTorch's init
        INDArray input = Nd4j.randn(DataType.FLOAT, 5, 3, 10);          // (L, N, H_in)
        INDArray h0 = Nd4j.randn(DataType.FLOAT, 4, 3, 20);             // (numLayers * D, N, H_out)
        INDArray c0 = Nd4j.randn(DataType.FLOAT, 4, 3, 20);
        LstmOutput out = bilstm.forward(input, new LstmState(h0, c0));
        System.out.println("output shape: " + Arrays.toString(out.output().shape()));
        System.out.println("hn shape: " + Arrays.toString(out.hN().shape()));
        System.out.println("cn shape: " + Arrays.toString(out.cN().shape()));
        // output[4, 0, :20] == hn[2, 0]: the top layer's forward direction ends at the last step
        INDArray lastForward = out.output().get(NDArrayIndex.point(4), NDArrayIndex.point(0), NDArrayIndex.interval(0, 20));
        // output[0, 0, 20:] == hn[3, 0]: its backward direction ends at step 0
        INDArray firstBackward = out.output().get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.interval(20, 40));
        System.out.println(lastForward.equals(out.hN().get(NDArrayIndex.point(2), NDArrayIndex.point(0)))
                + " " + firstBackward.equals(out.hN().get(NDArrayIndex.point(3), NDArrayIndex.point(0))));
        // --- README example end ---
        assertArrayEquals(new long[] {5, 3, 40}, out.output().shape());
        assertArrayEquals(new long[] {4, 3, 20}, out.hN().shape());
        assertArrayEquals(new long[] {4, 3, 20}, out.cN().shape());
        assertEquals(lastForward, out.hN().get(NDArrayIndex.point(2), NDArrayIndex.point(0)));
        assertEquals(firstBackward, out.hN().get(NDArrayIndex.point(3), NDArrayIndex.point(0)));
    }
}
