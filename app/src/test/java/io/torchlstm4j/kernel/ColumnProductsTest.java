package io.torchlstm4j.kernel;

import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.Precision;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The check behind {@link ColumnProducts}: the Java product of a matrix and a few columns gives OpenBLAS's bits where
 * the check says so (on other values than the check's), and the check sees a BLAS that adds in another order.
 */
class ColumnProductsTest {

    @Test
    @SuppressWarnings("unchecked")
    void whereTheCheckAgreesTheJavaProductsGiveTheGemmsBits() {
        Precision<float[]> num = (Precision<float[]>) Precision.of(DataType.FLOAT);
        int checked = 0;
        int shapes = 0;
        for (int[] shape : new int[][] {{256, 28}, {256, 64}, {512, 32}, {512, 128}, {20, 5}, {8, 1}}) {
            for (int n : new int[] {1, 2, 3, 5, ColumnProducts.MAX_COLUMNS}) {
                shapes++;
                int m = shape[0];
                int k = shape[1];
                if (!ColumnProducts.agrees(num, DataType.FLOAT, m, k, n)) {
                    continue;
                }
                Nd4j.getRandom().setSeed(m * 1000L + k * 10L + n);
                INDArray w = Nd4j.randn(DataType.FLOAT, m, k);
                INDArray x = Nd4j.randn(DataType.FLOAT, k, n).muli(100);
                INDArray c = Nd4j.randn(DataType.FLOAT, m, n);
                float[] wValues = w.data().asFloat();
                float[][] rowsT = new float[k][m];
                for (int i = 0; i < m; i++) {
                    for (int kk = 0; kk < k; kk++) {
                        rowsT[kk][i] = wValues[i * k + kk];
                    }
                }
                for (boolean accumulate : new boolean[] {false, true}) {
                    INDArray blas = c.dup('c');
                    num.gemm(false, false, m, n, k, new OffHeap(w), 0, k, new OffHeap(x), 0, n, accumulate,
                            new OffHeap(blas), 0, n);
                    float[] java = accumulate ? c.data().asFloat() : new float[m * n];
                    float[][] sums = new float[n][m];
                    if (n == 1) {
                        num.columnProduct(rowsT, m, k, x.data().asFloat(), sums[0]);
                    } else {
                        num.columnProducts(rowsT, m, k, x.data().asFloat(), n, sums);
                    }
                    num.addColumns(java, sums, 0, m, n);
                    assertArrayEquals(blas.data().asFloat(), java,
                            m + "x" + k + " times " + n + " columns, accumulate " + accumulate);
                }
                checked++;
            }
        }
        // OpenBLAS's x86-64 float32 kernels: each element's sums run in order up to the K block
        assertTrue(checked >= shapes * 2 / 3, "the check agreed on " + checked + " of " + shapes + " shapes");
    }

    @Test
    void theProductsTakeTheCallsWhereTheyWereMeasuredFaster() {
        // (batch, steps, 4H, H_out) of docs/performance.md's measurements ("Batch of one")
        assertFalse(ColumnProducts.pay(3, 5, 80, 20, true), "tutorial BiLSTM, batch 3: GEMMs and native gate math");
        assertTrue(ColumnProducts.pay(3, 5, 80, 20, false), "the same where both paths run the Java gate math");
        assertTrue(ColumnProducts.pay(1, 28, 80, 20, true), "a batch of one");
        assertTrue(ColumnProducts.pay(6, 1, 512, 128, true), "a one-step call of six samples");
        assertTrue(ColumnProducts.pay(3, 28, 256, 64, true), "three samples of LSTM(28, 64)");
        assertFalse(ColumnProducts.pay(4, 28, 256, 64, true), "four samples of LSTM(28, 64)");
        assertFalse(ColumnProducts.pay(ColumnProducts.MAX_COLUMNS + 1, 1, 512, 128, false), "past MAX_COLUMNS");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theCheckSeesABlasThatAddsInBlocks() {
        // a K longer than any OpenBLAS K block: the BLAS adds the blocks' partial sums, the Java loop does not
        assertFalse(ColumnProducts.agrees((Precision<float[]>) Precision.of(DataType.FLOAT), DataType.FLOAT, 64, 4096, 1));
    }
}
