package io.torchlstm4j.kernel;

import io.torchlstm4j.platform.NativeGates;
import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.PackedGemm;
import io.torchlstm4j.platform.Precision;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Gate math in {@link NativeGates}, float32 without projections only: one native call per step works on the gate
 * buffer itself (the activations stay there for backward, which reads them from there) and on h and c in native slot
 * buffers; the recurrent product of a step is {@link NativeGates#recurrent} where that gives OpenBLAS's bits faster,
 * else OpenBLAS's own kernel with W_hh packed once per call ({@link PackedGemm}) where the step's GEMM runs on one
 * OpenBLAS thread and that gives its bits, else OpenBLAS's GEMM.
 * Lengths are applied with a [L, N] step mask. Bit-identical to {@link JavaGateMath} (checked when the library loads,
 * see {@link NativeGates}).
 *
 * <p>Not safe for concurrent use, see {@link GateMath}.
 *
 * @param <A> {@code float[]} (the kernel's element type; the native code reads float32 only)
 */
final class NativeGateMath<A> implements GateMath<A> {

    private final Precision<A> num;
    private final int hidden;
    private final int hOut;
    /** The call's step mask, 1 where step t is valid for sample n, as [L, N]; null without lengths. */
    private OffHeap stepMask;

    NativeGateMath(Precision<A> num, int hidden, int hOut) {
        this.num = num;
        this.hidden = hidden;
        this.hOut = hOut;
    }

    @Override
    public void lengths(int[] lengths, Shape shape) {
        if (lengths == null) {
            stepMask = null;
            return;
        }
        int steps = shape.steps();
        int batch = shape.batch();
        float[] values = new float[steps * batch];
        for (int t = 0; t < steps; t++) {
            for (int s = 0; s < batch; s++) {
                values[t * batch + s] = t < lengths[s] ? 1f : 0f;
            }
        }
        OffHeap mask = buffer(steps, batch);
        mask.floats().put(0, values);
        stepMask = mask;
    }

    @Override
    public GateMath.Direction<A> direction(Buffers buffers, int capacityBatch, int capacitySteps) {
        return new Steps(buffers, capacityBatch, capacitySteps);
    }

    private static OffHeap buffer(long rows, long cols) {
        return new OffHeap(Nd4j.createUninitializedDetached(DataType.FLOAT, rows * cols));
    }

    /** One layer and direction's native buffers: c in slots like the h states, b_ih + b_hh, backward's carried dc. */
    private final class Steps implements GateMath.Direction<A> {
        private final Buffers b;
        private final OffHeap cStates;
        private final OffHeap biasSum;
        private final OffHeap dcBuffer;
        /** h and c carried in (initial state) and out (final state) of the native slots. */
        private final A hState;
        private final A cState;
        /** Zeros, backward's initial carried dc. */
        private final A zeros;
        /** b_ih + b_hh of the running forward in Java, and the array that reads b_hh. */
        private final A biasValues;
        private final A biasScratch;
        private boolean recurrentForward;
        private boolean recurrentBackward;
        /** W_hh, then W_hh^T, packed for {@link PackedGemm}, and its scratch (made at first use). */
        private OffHeap packed;
        private OffHeap packedScratch;
        private final int capacityBatch;
        private boolean packedForward;
        private boolean packedBackward;
        /** Whether this backward has packed W_hh^T yet (it arrives with the first step). */
        private boolean packedTransposed;

        Steps(Buffers buffers, int capacityBatch, int capacitySteps) {
            b = buffers;
            this.capacityBatch = capacityBatch;
            cStates = buffer(hidden, (long) (capacitySteps + 1) * capacityBatch);
            biasSum = buffer(4L * hidden, 1);
            dcBuffer = buffer(hidden, capacityBatch);
            hState = num.alloc(hOut * capacityBatch);
            cState = num.alloc(hidden * capacityBatch);
            zeros = num.alloc(hidden * capacityBatch);
            biasValues = num.alloc(4 * hidden);
            biasScratch = num.alloc(4 * hidden);
        }

        @Override
        public void allocateActivations(int capacityBatch, int capacitySteps) {
            // the activations stay in the gate buffer
        }

        @Override
        public void initialState(int slot, A h0, A c0, int index, Shape shape) {
            GateMath.initialState(num, hidden, hOut, h0, c0, index, slot, hState, cState, b, shape);
            int n = shape.batch();
            for (int j = 0; j < hidden; j++) {
                num.put(cState, j * n, cStates, (long) j * shape.stateLd() + (long) slot * n, n);
            }
        }

        @Override
        public void beginForward(LstmKernel.Weights w, A[] recurrentT, Shape shape) {
            // recurrentT unused: each step reads W_hh in native memory, for NativeGates' own product or the GEMM
            GateMath.biasSum(num, w, hidden, biasValues, biasScratch);
            num.put(biasValues, 0, biasSum, 0, 4 * hidden);
            recurrentForward = shape.smallSteps() && NativeGates.recurrentFits(4 * hidden, shape.batch(), hOut);
            packedForward = !recurrentForward && shape.oneThreadSteps()
                    && PackedGemm.fits(4 * hidden, shape.batch(), hOut);
            if (packedForward) {
                ensurePacked();
                PackedGemm.pack(w.wHh(), 4 * hidden, hOut, packed);
            }
        }

        @Override
        public void forwardStep(int t, int inSlot, int outSlot, LstmKernel.Weights w, boolean training, OffHeap y,
                                long outRow, Shape shape) {
            int n = shape.batch();
            int columns = shape.columns();
            int stateLd = shape.stateLd();
            long in = (long) inSlot * n;
            long out = (long) outSlot * n;
            if (recurrentForward) {
                NativeGates.recurrent(w.wHh(), b.states(), in, stateLd, b.gates(), (long) t * n, columns, 4 * hidden,
                        n, hOut, true);
            } else if (packedForward) {
                PackedGemm.multiply(packed, b.states(), in, stateLd, b.gates(), (long) t * n, columns, 4 * hidden, n,
                        hOut, packedScratch, true);
            } else {
                num.gemm(false, false, 4 * hidden, n, hOut, w.wHh(), 0, hOut, b.states(), in, stateLd, true,
                        b.gates(), (long) t * n, columns);
            }
            NativeGates.forwardStep(b.gates(), (long) t * n, columns, biasSum, cStates, in, out, b.states(), in, out,
                    stateLd, y, outRow * columns + (long) t * n, columns, stepMask, (long) t * n, hidden, n);
        }

        @Override
        public void endForward(int lastSlot, Shape shape) {
            int n = shape.batch();
            for (int j = 0; j < hidden; j++) {
                num.get(b.states(), (long) j * shape.stateLd() + (long) lastSlot * n, hState, j * n, n);
                num.get(cStates, (long) j * shape.stateLd() + (long) lastSlot * n, cState, j * n, n);
            }
        }

        @Override
        public void beginBackward(Shape shape) {
            num.put(zeros, 0, dcBuffer, 0, shape.cells());
            recurrentBackward = shape.smallSteps() && NativeGates.recurrentFits(hOut, shape.batch(), 4 * hidden);
            packedBackward = !recurrentBackward && shape.oneThreadSteps()
                    && PackedGemm.fits(hOut, shape.batch(), 4 * hidden);
            packedTransposed = false;
        }

        @Override
        public void backwardStep(int s, int t, int inSlot, int outSlot, LstmKernel.Weights w, OffHeap wHhT,
                                 OffHeap dy, long dyRow, Shape shape) {
            int n = shape.batch();
            int columns = shape.columns();
            long in = (long) inSlot * n;
            long out = (long) outSlot * n;
            // the next backward step's state column is one slot towards the start of the direction's order
            int next = s == 0 ? 0 : inSlot < outSlot ? -n : n;
            NativeGates.backwardStep(b.gates(), (long) t * n, columns, dy, dyRow * columns + (long) t * n, columns,
                    s < shape.steps() - 1 ? b.scratch() : null, cStates, out, in, shape.stateLd(), dcBuffer, stepMask,
                    (long) t * n, hidden, n, next);
            if (s > 0 && recurrentBackward) {
                NativeGates.recurrent(wHhT, b.gates(), (long) t * n, columns, b.scratch(), 0, n, hOut, n, 4 * hidden,
                        false);
            } else if (s > 0 && packedBackward) {
                if (!packedTransposed) {
                    ensurePacked();
                    PackedGemm.pack(wHhT, hOut, 4 * hidden, packed);
                    packedTransposed = true;
                }
                PackedGemm.multiply(packed, b.gates(), (long) t * n, columns, b.scratch(), 0, n, hOut, n, 4 * hidden,
                        packedScratch, false);
            } else if (s > 0) {
                num.gemm(false, false, hOut, n, 4 * hidden, wHhT, 0, 4 * hidden, b.gates(), (long) t * n, columns,
                        false, b.scratch(), 0, n);
            }
        }

        /** The packed weights (W_hh and W_hh^T have the same size) and the scratch, made at first use. */
        private void ensurePacked() {
            if (packed == null) {
                packed = buffer(PackedGemm.packedLength(4 * hidden, hOut), 1);
                packedScratch = buffer(Math.max(PackedGemm.scratchLength(capacityBatch, hOut),
                        PackedGemm.scratchLength(capacityBatch, 4 * hidden)), 1);
            }
        }

        @Override
        public A finalHidden() {
            return hState;
        }

        @Override
        public A finalCell(int lastSlot) {
            return cState;
        }
    }
}
