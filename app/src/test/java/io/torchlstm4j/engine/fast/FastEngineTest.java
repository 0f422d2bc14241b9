package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fast engine against {@link PlainLstm} (forward) and finite differences of it (gradients). */
class FastEngineTest {

    private static final int BATCH = 4;
    private static final int STEPS = 5;
    private static final int[] LENGTHS = {3, 1, STEPS, 2};

    static Stream<Arguments> configurations() {
        LstmConfig uni = LstmConfig.builder(3, 4).build();
        LstmConfig stackedBi = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build();
        LstmConfig projStacked = LstmConfig.builder(3, 5).numLayers(2).projSize(2).build();
        LstmConfig projBi = LstmConfig.builder(3, 5).projSize(3).bidirectional(true).build();
        LstmConfig noBias = LstmConfig.builder(2, 3).numLayers(2).bidirectional(true).bias(false).build();
        return Stream.of(
                Arguments.of(uni, false, false),
                Arguments.of(uni, true, true),
                Arguments.of(stackedBi, true, false),
                Arguments.of(stackedBi, true, true),
                Arguments.of(projStacked, true, true),
                Arguments.of(projBi, false, true),
                Arguments.of(noBias, true, true));
    }

    @ParameterizedTest(name = "{0} state={1} lengths={2}")
    @MethodSource("configurations")
    void forwardEqualsThePlainLstmWithin1e12InFloat64And1e6InFloat32(LstmConfig config, boolean withState,
                                                                     boolean withLengths) {
        for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            double tolerance = type == DataType.DOUBLE ? 1e-12 : 1e-6;
            FastEngine engine = new FastEngine(config, type, 7);
            Case c = new Case(config, type, withState, withLengths);
            LstmOutput fast = engine.forward(c.input, c.h0, c.c0, c.lengths, type == DataType.FLOAT);
            INDArray[] plain = PlainLstm.forward(config, engine.parameters(), c.input, c.h0, c.c0, c.lengths);
            assertClose(plain[0], fast.output(), tolerance, type + " output");
            assertClose(plain[1], fast.hN(), tolerance, type + " h_n");
            assertClose(plain[2], fast.cN(), tolerance, type + " c_n");
        }
    }

    @ParameterizedTest(name = "{0} state={1} lengths={2}")
    @MethodSource("configurations")
    void gradientsEqualFiniteDifferencesOfThePlainLstm(LstmConfig config, boolean withState, boolean withLengths) {
        FastEngine engine = new FastEngine(config, DataType.DOUBLE, 11);
        Case c = new Case(config, DataType.DOUBLE, withState, withLengths);
        Map<ParameterKey, INDArray> gradients = engine.gradients(c.input, c.h0, c.c0, c.lengths, c.outputWeights);
        Map<ParameterKey, INDArray> params = engine.parameters();
        Random pick = new Random(3);
        double eps = 1e-6;
        for (Map.Entry<ParameterKey, INDArray> e : params.entrySet()) {
            INDArray p = e.getValue();
            INDArray flat = p.reshape(p.length());
            for (int probe = 0; probe < 6; probe++) {
                long index = pick.nextInt((int) p.length());
                double saved = flat.getDouble(index);
                flat.putScalar(index, saved + eps);
                double plus = PlainLstm.weightedSum(config, params, c.input, c.h0, c.c0, c.lengths, c.outputWeights);
                flat.putScalar(index, saved - eps);
                double minus = PlainLstm.weightedSum(config, params, c.input, c.h0, c.c0, c.lengths, c.outputWeights);
                flat.putScalar(index, saved);
                double numeric = (plus - minus) / (2 * eps);
                double analytic = gradients.get(e.getKey()).reshape(p.length()).getDouble(index);
                assertEquals(numeric, analytic, 1e-8, e.getKey() + " [" + index + "]");
            }
        }
        assertEquals(gradients.keySet(), params.keySet());
        if (config.bias()) {
            assertEquals(gradients.get(new ParameterKey(0, 0, ParameterKey.Kind.BIAS_IH)),
                    gradients.get(new ParameterKey(0, 0, ParameterKey.Kind.BIAS_HH)));
        }
    }

    @ParameterizedTest(name = "{0} state={1} lengths={2}")
    @MethodSource("configurations")
    void float32GradientsStayWithin1e5OfFloat64(LstmConfig config, boolean withState, boolean withLengths) {
        FastEngine f64 = new FastEngine(config, DataType.DOUBLE, 5);
        FastEngine f32 = new FastEngine(config, DataType.FLOAT, 5);
        Map<ParameterKey, INDArray> params = new LinkedHashMap<>();
        f64.parameters().forEach((k, v) -> params.put(k, v.castTo(DataType.FLOAT)));
        f32.loadParameters(params);
        Case c64 = new Case(config, DataType.DOUBLE, withState, withLengths);
        Case c32 = new Case(config, DataType.FLOAT, withState, withLengths);
        Map<ParameterKey, INDArray> g64 = f64.gradients(c64.input, c64.h0, c64.c0, c64.lengths, c64.outputWeights);
        Map<ParameterKey, INDArray> g32 = f32.gradients(c32.input, c32.h0, c32.c0, c32.lengths, c32.outputWeights);
        for (ParameterKey key : g64.keySet()) {
            assertClose(g64.get(key), g32.get(key), 1e-5, key.toString());
        }
    }

    @org.junit.jupiter.api.Test
    void dropoutActsInTrainingOnlyAndBackpropUsesTheForwardsMask() {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(3).bidirectional(true).dropout(0.4).build();
        FastEngine engine = new FastEngine(config, DataType.DOUBLE, 2);
        Case c = new Case(config, DataType.DOUBLE, true, true);
        Map<ParameterKey, INDArray> params = engine.parameters();
        INDArray eval = engine.forward(c.input, c.h0, c.c0, c.lengths, false).output();
        assertClose(PlainLstm.forward(config, params, c.input, c.h0, c.c0, c.lengths)[0], eval, 1e-12, "eval");
        Nd4j.getRandom().setSeed(77);
        INDArray train = engine.forward(c.input, c.h0, c.c0, c.lengths, true).output();
        assertTrue(train.sub(eval).amaxNumber().doubleValue() > 1e-3, "dropout changed nothing in training");
        Nd4j.getRandom().setSeed(77);
        Map<ParameterKey, INDArray> gradients = engine.gradients(c.input, c.h0, c.c0, c.lengths, c.outputWeights);
        double eps = 1e-6;
        for (ParameterKey key : new ParameterKey[] {new ParameterKey(1, 0, ParameterKey.Kind.WEIGHT_IH),
                new ParameterKey(1, 1, ParameterKey.Kind.BIAS_HH), new ParameterKey(2, 0, ParameterKey.Kind.WEIGHT_HH),
                new ParameterKey(0, 0, ParameterKey.Kind.WEIGHT_IH)}) {
            INDArray flat = params.get(key).reshape(params.get(key).length());
            for (long index = 0; index < flat.length(); index += 7) {
                double saved = flat.getDouble(index);
                double[] sums = new double[2];
                for (int side = 0; side < 2; side++) {
                    flat.putScalar(index, saved + (side == 0 ? eps : -eps));
                    engine.loadParameters(params);
                    Nd4j.getRandom().setSeed(77);
                    sums[side] = engine.forward(c.input, c.h0, c.c0, c.lengths, true).output()
                            .mul(c.outputWeights).sumNumber().doubleValue();
                }
                flat.putScalar(index, saved);
                double numeric = (sums[0] - sums[1]) / (2 * eps);
                double analytic = gradients.get(key).reshape(flat.length()).getDouble(index);
                assertEquals(numeric, analytic, 1e-7, key + " [" + index + "]");
            }
        }
    }

    @org.junit.jupiter.api.Test
    void oneEngineServesChangingBatchSizesAndLengths() {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).projSize(2).build();
        FastEngine engine = new FastEngine(config, DataType.DOUBLE, 12);
        Map<ParameterKey, INDArray> params = engine.parameters();
        Random r = new Random(6);
        int[][] shapes = {{4, 5}, {2, 8}, {6, 3}, {1, 1}, {4, 5}};
        for (int[] shape : shapes) {
            int n = shape[0];
            int steps = shape[1];
            INDArray input = Case.random(r, DataType.DOUBLE, steps, n, config.inputSize());
            int[] lengths = new int[n];
            for (int s = 0; s < n; s++) {
                lengths[s] = 1 + r.nextInt(steps);
            }
            INDArray weights = Case.random(r, DataType.DOUBLE, steps, n, 4);
            String what = n + " samples of " + steps + " steps";
            assertClose(PlainLstm.forward(config, params, input, null, null, lengths)[0],
                    engine.forward(input, null, null, lengths, true).output(), 1e-12, what);
            Map<ParameterKey, INDArray> gradients = engine.gradients(input, null, null, lengths, weights);
            ParameterKey key = new ParameterKey(1, 1, ParameterKey.Kind.WEIGHT_HH);
            INDArray param = params.get(key);
            INDArray flat = param.reshape(param.length());
            double saved = flat.getDouble(3);
            flat.putScalar(3, saved + 1e-6);
            double plus = PlainLstm.weightedSum(config, params, input, null, null, lengths, weights);
            flat.putScalar(3, saved - 1e-6);
            double minus = PlainLstm.weightedSum(config, params, input, null, null, lengths, weights);
            flat.putScalar(3, saved);
            assertEquals((plus - minus) / 2e-6, gradients.get(key).reshape(param.length()).getDouble(3), 1e-8,
                    what);
        }
    }

    @org.junit.jupiter.api.Test
    void dropoutOneFeedsZerosToTheNextLayer() {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).dropout(1).build();
        FastEngine engine = new FastEngine(config, DataType.DOUBLE, 2);
        Case c = new Case(config, DataType.DOUBLE, false, false);
        LstmConfig top = LstmConfig.builder(8, 4).bidirectional(true).build();
        Map<ParameterKey, INDArray> topParams = new LinkedHashMap<>();
        engine.parameters().forEach((key, value) -> {
            if (key.layer() == 1) {
                topParams.put(new ParameterKey(0, key.direction(), key.kind()), value);
            }
        });
        INDArray zeros = Nd4j.zeros(DataType.DOUBLE, STEPS, BATCH, 8);
        assertClose(PlainLstm.forward(top, topParams, zeros, null, null, null)[0],
                engine.forward(c.input, null, null, null, true).output(), 1e-12, "output over a zero input");
    }

    @org.junit.jupiter.api.Test
    void aBatchWithLengthsEqualsEachSampleRunAloneUnpadded() {
        LstmConfig config = LstmConfig.builder(3, 4).numLayers(2).bidirectional(true).build();
        FastEngine engine = new FastEngine(config, DataType.DOUBLE, 8);
        Case c = new Case(config, DataType.DOUBLE, true, true);
        LstmOutput batch = engine.forward(c.input, c.h0, c.c0, c.lengths, false);
        for (int n = 0; n < BATCH; n++) {
            int length = c.lengths[n];
            INDArray alone = c.input.get(NDArrayIndex.interval(0, length), NDArrayIndex.interval(n, n + 1),
                    NDArrayIndex.all());
            INDArray h0 = c.h0.get(NDArrayIndex.all(), NDArrayIndex.interval(n, n + 1), NDArrayIndex.all());
            INDArray c0 = c.c0.get(NDArrayIndex.all(), NDArrayIndex.interval(n, n + 1), NDArrayIndex.all());
            LstmOutput single = engine.forward(alone.dup(), h0.dup(), c0.dup(), null, false);
            assertClose(single.output(), batch.output().get(NDArrayIndex.interval(0, length),
                    NDArrayIndex.interval(n, n + 1), NDArrayIndex.all()), 1e-14, "sample " + n + " output");
            if (length < STEPS) {
                assertEquals(0.0, batch.output().get(NDArrayIndex.interval(length, STEPS), NDArrayIndex.point(n),
                        NDArrayIndex.all()).amaxNumber().doubleValue(), "sample " + n + " padding");
            }
            assertClose(single.hN(), batch.hN().get(NDArrayIndex.all(), NDArrayIndex.interval(n, n + 1),
                    NDArrayIndex.all()), 1e-14, "sample " + n + " h_n");
            assertClose(single.cN(), batch.cN().get(NDArrayIndex.all(), NDArrayIndex.interval(n, n + 1),
                    NDArrayIndex.all()), 1e-14, "sample " + n + " c_n");
        }
    }

    static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()),
                what + " shape");
        double diff = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(diff <= tolerance, what + ": max |difference| " + diff + " > " + tolerance);
    }

    /** Random inputs for a configuration (fixed seed: the same values in float32 and float64). */
    static final class Case {
        final INDArray input;
        final INDArray h0;
        final INDArray c0;
        final int[] lengths;
        final INDArray outputWeights;

        Case(LstmConfig config, DataType type, boolean withState, boolean withLengths) {
            Random r = new Random(42);
            input = random(r, type, STEPS, BATCH, config.inputSize());
            h0 = withState ? random(r, type, config.stateLayers(), BATCH, config.outputSize()) : null;
            c0 = withState ? random(r, type, config.stateLayers(), BATCH, config.hiddenSize()) : null;
            lengths = withLengths ? LENGTHS.clone() : null;
            outputWeights = random(r, type, STEPS, BATCH, (long) config.numDirections() * config.outputSize());
        }

        static INDArray random(Random r, DataType type, long... shape) {
            INDArray a = Nd4j.create(DataType.DOUBLE, shape);
            INDArray flat = a.reshape(a.length());
            for (long i = 0; i < a.length(); i++) {
                flat.putScalar(i, r.nextGaussian());
            }
            return a.castTo(type);
        }
    }
}
