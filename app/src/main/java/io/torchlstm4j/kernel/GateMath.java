package io.torchlstm4j.kernel;

import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.Precision;
import io.torchlstm4j.platform.NativeGates;

/**
 * How a direction's steps compute their gates, cell and hidden state from the step's gate pre-activations:
 * {@link JavaGateMath} (Java loops over arrays, any precision, projections) or {@link NativeGateMath} (float32
 * without projections, one {@link NativeGates} call per step on the native buffers). Both give the same bits. Each
 * keeps the per-direction buffers that only it needs; {@link LstmKernel} keeps the ones both use
 * ({@link Buffers}) and the order of the steps.
 *
 * <p>Not safe for concurrent use in general: a {@link Direction} is used by one thread at a time (directions of one
 * call may run on different threads); {@link #lengths} runs before any direction of the call starts.
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
interface GateMath<A> {

    /**
     * The buffers of one layer and direction that the kernel and every gate math use, sized for the kernel's
     * capacity: the gate columns {@code [4H, L * N]}, h in slots {@code [H_out, (L + 1) * N]}, the projection's input
     * and gradient {@code [H, L * N]} and {@code [H_out, L * N]} (null without projections), a step's scratch, and
     * W_hh^T {@code [H_out, 4H]} for backward.
     */
    record Buffers(OffHeap gates, OffHeap states, OffHeap projected, OffHeap projectedGrad, OffHeap scratch,
                   OffHeap recurrentT) {
    }

    /**
     * One call's sizes: N, L, L * N (columns of a sequence tensor), (L + 1) * N (of a state buffer), H * N, H_out * N,
     * whether a step's recurrent GEMM is small enough for one BLAS thread ({@link LstmKernel#SMALL_GEMM_FLOPS}), and
     * whether the call's step GEMMs do run on one BLAS thread (so a product that gives one-thread bits may replace them).
     */
    record Shape(int batch, int steps, int columns, int stateLd, int cells, int outs, boolean smallSteps,
                 boolean oneThreadSteps) {
    }

    /** Sets the call's per-sample lengths (null: every step valid) before any direction of the call runs. */
    void lengths(int[] lengths, Shape shape);

    /**
     * Sets a direction's initial h ({@code [H_out, N]} into {@code hState} and state slot {@code slot}) and c
     * ({@code [H, N]} into {@code cState}) from (numLayers * D, N, size) Java arrays at entry {@code index}, or zeros
     * when {@code h0} is null.
     */
    static <A> void initialState(Precision<A> num, int hidden, int hOut, A h0, A c0, int index, int slot,
                                 A hState, A cState, Buffers buffers, Shape shape) {
        int n = shape.batch();
        if (h0 == null) {
            num.fill(hState, 0);
            num.fill(cState, 0);
        } else {
            num.transpose(h0, index * shape.outs(), n, hOut, hState);
            num.transpose(c0, index * shape.cells(), n, hidden, cState);
        }
        for (int j = 0; j < hOut; j++) {
            num.put(hState, j * n, buffers.states(), (long) j * shape.stateLd() + (long) slot * n, n);
        }
    }

    /**
     * b_ih + b_hh (4H values) of {@code w} into {@code sum} (zeros without biases), {@code other} as scratch (both of
     * at least 4H). Read on every forward, never cached: DL4J's updater changes the parameters in place without telling
     * the layer, and the sum of 4H values costs far less than a check that they changed.
     */
    static <A> void biasSum(Precision<A> num, LstmKernel.Weights w, int hidden, A sum, A other) {
        if (w.bIh() == null) {
            num.fill(sum, 0);
            return;
        }
        num.get(w.bIh(), 0, sum, 0, 4 * hidden);
        num.get(w.bHh(), 0, other, 0, 4 * hidden);
        num.addInPlace(sum, other, 4 * hidden);
    }

    /** The gate math's part of one layer and direction, with its own buffers sized for the capacity. */
    Direction<A> direction(Buffers buffers, int capacityBatch, int capacitySteps);

    /** One layer and direction: its state between steps, its steps, and its final state. */
    interface Direction<A> {

        /** Makes room for what a training forward keeps for backward (once; a no-op where the gates keep it). */
        void allocateActivations(int capacityBatch, int capacitySteps);

        /**
         * Sets the initial state at {@code slot} (0 forward, L backward) from (numLayers * D, N, size) Java arrays at
         * entry {@code index}, or zeros when {@code h0} is null.
         */
        void initialState(int slot, A h0, A c0, int index, Shape shape);

        /**
         * Before the first step of a forward: takes the biases of {@code w}, and {@code recurrentT} (W_hh^T, H_out
         * rows of 4H, {@link ColumnProducts}) for the steps' recurrent products when it is not null (a batch
         * of one), where the gate math computes in Java arrays; else each step runs the GEMM.
         */
        void beginForward(LstmKernel.Weights w, A[] recurrentT, Shape shape);

        /**
         * Forward step {@code t} (slots {@code inSlot} to {@code outSlot}): adds the recurrent product to the step's
         * gate columns (which hold the input projection), computes the new h and c, and writes h to rows
         * {@code outRow ..} of {@code y}.
         */
        void forwardStep(int t, int inSlot, int outSlot, LstmKernel.Weights w, boolean training, OffHeap y,
                         long outRow, Shape shape);

        /** After the last forward step: the final state ({@code lastSlot}) where {@link #finalHidden} reads it. */
        void endForward(int lastSlot, Shape shape);

        /** Before the first backward step: zero carried cell gradient. */
        void beginBackward(Shape shape);

        /**
         * Backward step {@code t}, the {@code s}-th of the direction's forward order: the gate gradients into the
         * step's gate columns, and unless {@code s == 0} the recurrent gradient carried to the next backward step.
         * {@code dy} holds dL/dh of every step at rows {@code dyRow ..}.
         */
        void backwardStep(int s, int t, int inSlot, int outSlot, LstmKernel.Weights w, OffHeap wHhT, OffHeap dy,
                          long dyRow, Shape shape);

        /** h at the end of the last forward, [H_out, N]. */
        A finalHidden();

        /** c at the end of the last forward ({@code lastSlot}), [H, N]. */
        A finalCell(int lastSlot);
    }
}
