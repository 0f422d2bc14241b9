package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.kernel.ColumnProducts;
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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A small batch (up to {@code ColumnProducts.MAX_COLUMNS}) takes its products from the transposed weights
 * ({@code ColumnProducts}) while the engine's parameters are private, and gives, bit for bit, what the GEMMs give (the
 * same engine after its network was handed out, which runs every GEMM); the copies follow a load of parameters, and a
 * handed-out network's in-place changes are seen.
 */
class SmallBatchProductsTest {

    static List<Object[]> cases() {
        List<Object[]> cases = new ArrayList<>();
        for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
            cases.add(new Object[] {LstmConfig.builder(28, 64).numLayers(2).build(), type});
            cases.add(new Object[] {LstmConfig.builder(32, 128).numLayers(2).build(), type});
            cases.add(new Object[] {LstmConfig.builder(5, 7).numLayers(3).bidirectional(true).build(), type});
            cases.add(new Object[] {LstmConfig.builder(6, 9).numLayers(2).projSize(4).build(), type});
            cases.add(new Object[] {LstmConfig.builder(3, 5).numLayers(2).dropout(0.4).build(), type});
            // at batch 6 its input projection runs step by step (a column block inside the step loop)
            cases.add(new Object[] {LstmConfig.builder(48, 256).build(), type});
        }
        return cases;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void aSmallBatchGivesTheBitsOfTheGemms(LstmConfig config, DataType type) {
        FastEngine products = new FastEngine(config, type, 5);
        FastEngine gemms = new FastEngine(config, type, 5);
        gemms.network();
        Nd4j.getRandom().setSeed(17);
        INDArray h = null;
        INDArray c = null;
        INDArray hRef = null;
        INDArray cRef = null;
        int[] batches = {1, 1, 2, 3, 1, ColumnProducts.MAX_COLUMNS, ColumnProducts.MAX_COLUMNS + 1, 2};
        for (int i = 0; i < 32; i++) {
            int steps = i % 2 == 0 ? 5 : 1; // each batch size: a call of 5 steps, then one of 1 from its state
            boolean training = i % 3 == 1;
            boolean unbatched = i % 5 == 2;
            int batch = unbatched ? 1 : batches[(i / 2) % batches.length]; // two calls per size: the state carries
            INDArray x = unbatched ? Nd4j.randn(type, steps, config.inputSize())
                    : Nd4j.randn(type, steps, batch, config.inputSize());
            int[] lengths = !unbatched && i % 7 == 3 ? lengths(batch, steps, i) : null;
            boolean stateless = h == null || unbatched != (h.rank() == 2) || (!unbatched && h.size(1) != batch);
            long seed = 100 + i;
            Nd4j.getRandom().setSeed(seed); // the same dropout masks for both
            LstmOutput a = products.forward(x, stateless ? null : h, stateless ? null : c, lengths, training);
            Nd4j.getRandom().setSeed(seed);
            LstmOutput b = gemms.forward(x, stateless ? null : hRef, stateless ? null : cRef, lengths, training);
            String call = "call " + i + " (steps " + steps + ", batch " + batch + ", training " + training
                    + ", unbatched " + unbatched + ")";
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
    void aSequenceOfAFewSamplesTakesTheGemmsWhereTheGateMathIsNative() {
        // the tutorial's BiLSTM: at batch 3 over 5 steps the GEMMs with the native gate math are the faster path
        // (ColumnProducts.pay), so the copies are not even made; a batch of one takes them
        LstmConfig config = LstmConfig.builder(10, 20).numLayers(2).bidirectional(true).build();
        FastEngine engine = new FastEngine(config, DataType.FLOAT, 3);
        Nd4j.getRandom().setSeed(6);
        engine.forward(Nd4j.randn(DataType.FLOAT, 5, 3, 10), null, null, null, false);
        boolean nativeMath = engine.nativeGateMath();
        assertEquals(!nativeMath, engine.usesColumnProducts(),
                "batch 3 of 5 steps with " + (nativeMath ? "native" : "Java") + " gate math");

        engine.forward(Nd4j.randn(DataType.FLOAT, 5, 1, 10), null, null, null, false);
        assertTrue(engine.usesColumnProducts(), "a batch of one takes the copies");
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

    private static int[] lengths(int batch, int steps, int seed) {
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = Math.max(1, steps - (seed + b) % 3);
        }
        return lengths;
    }

    /** The values, exactly (a float widens to a double without rounding). */
    private static double[] bits(INDArray a) {
        return a.dup('c').data().asDouble();
    }
}
