package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batch of one takes its products from the transposed weights ({@code ColumnProducts}) while the engine's
 * parameters are private, and gives, bit for bit, what the GEMMs give (the same engine after its network was handed
 * out, which runs every GEMM); the copies follow a load of parameters, and a handed-out network's in-place changes
 * are seen.
 */
class BatchOfOneProductsTest {

    static List<Object[]> cases() {
        List<Object[]> cases = new ArrayList<>();
        for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
            cases.add(new Object[] {LstmConfig.builder(28, 64).numLayers(2).build(), type});
            cases.add(new Object[] {LstmConfig.builder(32, 128).numLayers(2).build(), type});
            cases.add(new Object[] {LstmConfig.builder(5, 7).numLayers(3).bidirectional(true).build(), type});
            cases.add(new Object[] {LstmConfig.builder(6, 9).numLayers(2).projSize(4).build(), type});
            cases.add(new Object[] {LstmConfig.builder(3, 5).numLayers(2).dropout(0.4).build(), type});
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aBatchOfOneGivesTheBitsOfTheGemms(LstmConfig config, DataType type) {
        FastEngine products = new FastEngine(config, type, 5);
        FastEngine gemms = new FastEngine(config, type, 5);
        gemms.network();
        Nd4j.getRandom().setSeed(17);
        INDArray h = null;
        INDArray c = null;
        INDArray hRef = null;
        INDArray cRef = null;
        for (int i = 0; i < 24; i++) {
            int steps = i % 4 == 0 ? 5 : 1;
            boolean training = i % 3 == 1;
            boolean unbatched = i % 5 == 2;
            INDArray x = unbatched ? Nd4j.randn(type, steps, config.inputSize())
                    : Nd4j.randn(type, steps, 1, config.inputSize());
            int[] lengths = !unbatched && i % 7 == 3 ? new int[] {Math.max(1, steps - 2)} : null;
            boolean stateless = h == null || unbatched != (h.rank() == 2);
            long seed = 100 + i;
            Nd4j.getRandom().setSeed(seed); // the same dropout masks for both
            LstmOutput a = products.forward(x, stateless ? null : h, stateless ? null : c, lengths, training);
            Nd4j.getRandom().setSeed(seed);
            LstmOutput b = gemms.forward(x, stateless ? null : hRef, stateless ? null : cRef, lengths, training);
            String call = "call " + i + " (steps " + steps + ", training " + training + ", unbatched " + unbatched
                    + ")";
            assertArrayEquals(bits(b.output()), bits(a.output()), call + ": output");
            assertArrayEquals(bits(b.hN()), bits(a.hN()), call + ": h_n");
            assertArrayEquals(bits(b.cN()), bits(a.cN()), call + ": c_n");
            h = a.hN();
            c = a.cN();
            hRef = b.hN();
            cRef = b.cN();
        }
        if (type == DataType.FLOAT) {
            // OpenBLAS's x86-64 float32 kernels add a single column's products in the Java order for K up to
            // their K block (hundreds); should a BLAS differ, the engine keeps its GEMMs and this says so
            assertTrue(products.usesColumnProducts(), "the private engine took its products from the copies");
        }
        assertFalse(gemms.usesColumnProducts(), "the handed-out engine ran its GEMMs");
    }

    @Test
    void theCopiesFollowALoadOfParameters() {
        LstmConfig config = LstmConfig.builder(6, 10).numLayers(2).build();
        FastEngine engine = new FastEngine(config, DataType.FLOAT, 1);
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 1, 1, 6);
        double[] before = bits(engine.forward(x, null, null, null, false).output());
        assertTrue(engine.usesColumnProducts());

        Map<ParameterKey, INDArray> changed = new LinkedHashMap<>();
        engine.parameters().forEach((key, value) -> changed.put(key, value.mul(-0.75)));
        engine.loadParameters(changed);
        double[] after = bits(engine.forward(x, null, null, null, false).output());

        FastEngine fresh = new FastEngine(config, DataType.FLOAT, 2);
        fresh.loadParameters(changed);
        fresh.network();
        assertArrayEquals(bits(fresh.forward(x, null, null, null, false).output()), after);
        assertFalse(Arrays.equals(before, after), "the load changed the result");
    }

    @Test
    void aHandedOutNetworkChangedInPlaceIsSeen() {
        LstmConfig config = LstmConfig.builder(6, 10).build();
        FastEngine engine = new FastEngine(config, DataType.FLOAT, 1);
        Nd4j.getRandom().setSeed(4);
        INDArray x = Nd4j.randn(DataType.FLOAT, 1, 1, 6);
        double[] before = bits(engine.forward(x, null, null, null, false).output());
        assertTrue(engine.usesColumnProducts());

        engine.network().params().muli(0.5); // DL4J's updater and users write the parameters in place like this
        double[] after = bits(engine.forward(x, null, null, null, false).output());
        assertFalse(engine.usesColumnProducts(), "no copies once the network is handed out");

        FastEngine expected = new FastEngine(config, DataType.FLOAT, 1);
        expected.network().params().muli(0.5);
        assertArrayEquals(bits(expected.forward(x, null, null, null, false).output()), after);
        assertNotEquals(Arrays.toString(before), Arrays.toString(after));
    }

    /** The values, exactly (a float widens to a double without rounding). */
    private static double[] bits(INDArray a) {
        return a.dup('c').data().asDouble();
    }
}
