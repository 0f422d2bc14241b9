package io.torchlstm4j.kernel;

import io.torchlstm4j.TorchLstm;
import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * Java heap allocated per one-step streaming call (the serving benchmark's case: LSTM(28, 64, 2 layers), float32,
 * state carried), measured with HotSpot's per-thread allocation counter around many calls (not a test: the figures
 * are in docs/design.md). Arguments: {@code [calls [batch ...]]}, default 20000 calls at batch 1 and 64. Run with
 * JFR's {@code jdk.ObjectAllocationSample} to see the sites.
 */
public final class StreamingAllocation {

    private StreamingAllocation() {
    }

    public static void main(String[] args) {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        int[] batches = args.length > 1 ? new int[args.length - 1] : new int[] {1, 64};
        for (int i = 1; i < args.length; i++) {
            batches[i - 1] = Integer.parseInt(args[i]);
        }
        LstmConfig config = LstmConfig.builder(28, 64).numLayers(2).build();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int batch : batches) {
            TorchLstm lstm = TorchLstm.create(config, Engine.FAST, DataType.FLOAT, 7).eval();
            Nd4j.getRandom().setSeed(2);
            INDArray x = Nd4j.randn(DataType.FLOAT, 1, batch, config.inputSize());
            LstmState state = null;
            for (int i = 0; i < calls / 4; i++) {
                LstmOutput out = lstm.forward(x, state);
                state = new LstmState(out.hN(), out.cN());
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < calls; i++) {
                LstmOutput out = lstm.forward(x, state);
                state = new LstmState(out.hN(), out.cN());
            }
            long bytes = threads.getCurrentThreadAllocatedBytes() - before;
            System.out.printf(Locale.ROOT, "batch %d: %.0f bytes per call (%d calls)%n", batch,
                    (double) bytes / calls, calls);
        }
    }
}
