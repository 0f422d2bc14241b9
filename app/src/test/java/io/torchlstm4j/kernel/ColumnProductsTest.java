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
 * The check behind {@link ColumnProducts}: the Java product of a matrix and one column gives OpenBLAS's bits where the
 * check says so (on other values than the check's), and the check sees a BLAS that adds in another order.
 */
class ColumnProductsTest {

    @Test
    @SuppressWarnings("unchecked")
    void whereTheCheckAgreesTheJavaProductGivesTheGemmsBits() {
        Precision<float[]> num = (Precision<float[]>) Precision.of(DataType.FLOAT);
        int checked = 0;
        for (int[] shape : new int[][] {{256, 28}, {256, 64}, {512, 32}, {512, 128}, {20, 5}, {8, 1}}) {
            int m = shape[0];
            int k = shape[1];
            if (!ColumnProducts.agrees(num, DataType.FLOAT, m, k)) {
                continue;
            }
            Nd4j.getRandom().setSeed(m * 1000L + k);
            INDArray w = Nd4j.randn(DataType.FLOAT, m, k);
            INDArray x = Nd4j.randn(DataType.FLOAT, k, 1).muli(100);
            INDArray c = Nd4j.randn(DataType.FLOAT, m, 1);
            float[] wValues = w.data().asFloat();
            float[][] rowsT = new float[k][m];
            for (int i = 0; i < m; i++) {
                for (int kk = 0; kk < k; kk++) {
                    rowsT[kk][i] = wValues[i * k + kk];
                }
            }
            for (boolean accumulate : new boolean[] {false, true}) {
                INDArray blas = c.dup('c');
                num.gemm(false, false, m, 1, k, new OffHeap(w), 0, k, new OffHeap(x), 0, 1, accumulate,
                        new OffHeap(blas), 0, 1);
                float[] java = accumulate ? c.data().asFloat() : new float[m];
                float[] sums = new float[m];
                num.columnProduct(rowsT, m, k, x.data().asFloat(), sums);
                num.addSlice(java, sums, 0, m);
                assertArrayEquals(blas.data().asFloat(), java, m + "x" + k + " accumulate " + accumulate);
            }
            checked++;
        }
        // OpenBLAS's x86-64 float32 kernels: a single column's sums run in order up to the K block
        assertTrue(checked >= 4, "the check agreed on " + checked + " of 6 shapes");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theCheckSeesABlasThatAddsInBlocks() {
        // a K longer than any OpenBLAS K block: the BLAS adds the blocks' partial sums, the Java loop does not
        assertFalse(ColumnProducts.agrees((Precision<float[]>) Precision.of(DataType.FLOAT), DataType.FLOAT, 64, 4096));
    }
}
