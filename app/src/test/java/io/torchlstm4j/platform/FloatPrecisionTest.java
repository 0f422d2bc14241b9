package io.torchlstm4j.platform;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** float32 gate math: the approximations' accuracy, and the vectorised array loops against the scalar forms. */
class FloatPrecisionTest {

    private final FloatPrecision num = new FloatPrecision();

    @Test
    void tanhAndSigmoidStayWithin4e7OfTheExactValuesAcrossTheFloats() {
        double worstTanh = 0;
        double worstSigmoid = 0;
        for (long bits = 0; bits <= 0xFFFFFFFFL; bits += 251) {
            float x = Float.intBitsToFloat((int) bits);
            if (Float.isNaN(x)) {
                continue;
            }
            worstTanh = Math.max(worstTanh, Math.abs(FloatPrecision.tanh(x) - Math.tanh(x)));
            worstSigmoid = Math.max(worstSigmoid, Math.abs(FloatPrecision.sigmoid(x) - 1 / (1 + Math.exp(-(double) x))));
        }
        assertTrue(worstTanh <= 4e-7, "tanh: max |error| " + worstTanh);
        assertTrue(worstSigmoid <= 4e-7, "sigmoid: max |error| " + worstSigmoid);
        assertEquals(1f, FloatPrecision.tanh(Float.POSITIVE_INFINITY), 4e-7);
        assertEquals(-1f, FloatPrecision.tanh(Float.NEGATIVE_INFINITY), 4e-7);
    }

    @Test
    void theArrayLoopsGiveExactlyTheScalarResults() {
        Random r = new Random(3);
        int n = 1000;
        float[] x = new float[n];
        float[] bias = new float[n];
        float[] o = new float[n];
        for (int k = 0; k < n; k++) {
            x[k] = (float) (r.nextGaussian() * (k % 3 == 0 ? 30 : 3));
            bias[k] = (float) r.nextGaussian();
            o[k] = r.nextFloat();
        }
        float[] s = x.clone();
        num.sigmoid(s, bias, n);
        float[] t = x.clone();
        num.tanh(t, bias, n);
        float[] tanhOf = new float[n];
        num.tanhOf(tanhOf, x, n);
        float[] h = new float[n];
        num.outputGate(h, o, x, n);
        for (int k = 0; k < n; k++) {
            String at = "x = " + x[k] + ", bias = " + bias[k];
            assertEquals(FloatPrecision.sigmoid(x[k] + bias[k]), s[k], 0f, "sigmoid at " + at);
            assertEquals(FloatPrecision.tanh(x[k] + bias[k]), t[k], 0f, "tanh at " + at);
            assertEquals(FloatPrecision.tanh(x[k]), tanhOf[k], 0f, "tanhOf at " + at);
            assertEquals(o[k] * FloatPrecision.tanh(x[k]), h[k], 0f, "outputGate at " + at);
        }
    }
}
