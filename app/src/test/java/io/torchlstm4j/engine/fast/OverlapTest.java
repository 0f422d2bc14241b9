package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.SequenceLayout;
import io.torchlstm4j.core.LstmConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A DL4J contract call on the layer while a direct call runs fails fast, naming both, instead of sharing buffers. */
class OverlapTest {

    @Test
    void theNetworksOutputDuringAForwardOnAnotherThreadThrowsNamingBoth() throws Exception {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        FastEngine engine = new FastEngine(config, DataType.FLOAT, 1);
        TorchLstmLayerImpl layer = FastLstm.layer(engine.network(), "", config);
        INDArray input = FastEngineTest.Case.random(new Random(2), DataType.FLOAT, 5, 2, 3);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<?> forward = pool.submit(() -> layer.forward(input, SequenceLayout.SEQUENCE_FIRST, null, null, null, false, length -> {
                inside.countDown();
                try {
                    release.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Nd4j.createUninitialized(DataType.FLOAT, length);
            }));
            assertTrue(inside.await(1, TimeUnit.MINUTES));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> engine.network().output(Nd4j.rand(DataType.FLOAT, 2, 3, 5)));
            assertTrue(e.getMessage().contains("activate overlaps forward or gradients (TorchLstm) on another thread"),
                    e.getMessage());
            release.countDown();
            forward.get(1, TimeUnit.MINUTES);
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        engine.network().output(Nd4j.rand(DataType.FLOAT, 2, 3, 5));
    }
}
