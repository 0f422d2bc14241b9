package io.torchlstm4j.verify;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.LstmState;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Deliberately broken LSTMs: the real adapter with one thing changed, to show that a check can fail. */
public final class BrokenLstms {

    /** Changes what the real adapter returned. */
    public interface Breakage {
        LstmOutput apply(INDArray input, LstmState state, int[] lengths, LstmOutput real);
    }

    private BrokenLstms() {
    }

    /** The REFERENCE adapter with {@code breakage} applied to every result. */
    public static LstmFactory broken(Breakage breakage) {
        return (config, params) -> {
            LstmFactory.Model real = LstmFactory.adapter(Engine.REFERENCE).build(config, params);
            return (x, s, l) -> breakage.apply(x, s, l, real.forward(x, s, l));
        };
    }

    /** h_n entries 2 and 3 (the top layer of a 2-layer bidirectional LSTM) swapped, wherever h_n has them. */
    public static LstmFactory swappedHn23() {
        return broken((x, s, l, real) -> {
            if (real.hN().size(0) < 4) {
                return real;
            }
            INDArray hN = real.hN().dup();
            hN.putSlice(2, real.hN().slice(3));
            hN.putSlice(3, real.hN().slice(2));
            return new LstmOutput(real.output(), hN, real.cN());
        });
    }
}
