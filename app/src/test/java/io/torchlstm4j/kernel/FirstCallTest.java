package io.torchlstm4j.kernel;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.platform.NativeGates;
import io.torchlstm4j.platform.NativePlatform;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A kernel's first call runs no product check (start-up): its step product comes from OpenBLAS; the second call
 * checks the shape and may take the native product, with the same bits.
 */
class FirstCallTest {

    @Test
    void theFirstCallChecksNothingAndTheSecondChecksItsStepProductWithTheSameBits() {
        assumeTrue(NativePlatform.initialize().nativeLibrary().contains("AVX2"),
                "needs the AVX2 library: " + NativePlatform.status().nativeLibrary());
        // H = 42 at batch 24: a step product (168 x 24 x 42) that no other test uses
        int gates = 4 * 42;
        int batch = 24;
        TorchLstm lstm = TorchLstm.create(LstmConfig.builder(10, 42).build(), Engine.FAST, DataType.FLOAT, 5).eval();
        INDArray x = Nd4j.rand(DataType.FLOAT, 6, batch, 10);
        assertFalse(NativeGates.checked(gates, batch, 42), "another test already checked 168 x 24 x 42");

        LstmOutput first = lstm.forward(x);
        assertFalse(NativeGates.checked(gates, batch, 42), "the first call ran the check");
        LstmOutput second = lstm.forward(x);
        assertTrue(NativeGates.checked(gates, batch, 42), "the second call did not check its step product");

        assertArrayEquals(bits(first.output()), bits(second.output()), "output");
        assertArrayEquals(bits(first.hN()), bits(second.hN()), "h_n");
        assertArrayEquals(bits(first.cN()), bits(second.cN()), "c_n");
    }

    private static int[] bits(INDArray a) {
        float[] values = a.dup('c').data().asFloat();
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }
}
