package io.torchlstm4j.kernel;

import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.Precision;

/**
 * Gate math in Java loops ({@link Precision}'s element-wise methods, which the JIT vectorises): each step copies its
 * gate columns into four arrays (i, f, g, o), each {@code [H, N]}, computes there, and copies h back. Any precision,
 * with or without projections. c sits in one Java array per state slot; a training forward keeps each step's
 * activations in Java arrays for backward. Lengths are applied with per-step masks.
 *
 * <p>Not safe for concurrent use, see {@link GateMath}.
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
final class JavaGateMath<A> implements GateMath<A> {

    private final Precision<A> num;
    private final int hidden;
    private final int hOut;
    private final boolean projections;
    /** The call's per-step validity masks as [H, N] arrays, or null without lengths. */
    private A[] masks;

    JavaGateMath(Precision<A> num, int hidden, int hOut, boolean projections) {
        this.num = num;
        this.hidden = hidden;
        this.hOut = hOut;
        this.projections = projections;
    }

    @Override
    public void lengths(int[] lengths, Shape shape) {
        if (lengths == null) {
            masks = null;
            return;
        }
        A[] result = num.allocMany(shape.steps(), 0);
        for (int t = 0; t < shape.steps(); t++) {
            result[t] = num.validity(lengths, t, hidden);
        }
        masks = result;
    }

    @Override
    public GateMath.Direction<A> direction(Buffers buffers, int capacityBatch, int capacitySteps) {
        return new Steps(buffers, capacityBatch, capacitySteps);
    }

    /** The body of a slice of a step's element-wise work: rows {@code from .. to - 1} of its [rows, N] arrays. */
    @FunctionalInterface
    private interface RowSlice {
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over rows {@code 0 .. rows - 1}: in one piece on this thread, or split into
     * {@link Shape#gateSlices} parts of consecutive rows run at once ({@link StepStreams}). Every element is computed
     * by the same arithmetic in either case, so the bits are the same.
     */
    private static void rows(int rows, Shape shape, RowSlice body) {
        int slices = Math.min(shape.gateSlices(), rows);
        if (slices <= 1) {
            body.run(0, rows);
            return;
        }
        StepStreams.run(slices, slices - 1,
                (call, index) -> body.run(index * rows / slices, (index + 1) * rows / slices));
    }

    /** One layer and direction's Java arrays, sized for the capacity. */
    private final class Steps implements GateMath.Direction<A> {
        private final Buffers b;
        private final A[] c;
        private final A[] bias;
        private final A[] work;
        private final A r;
        private final A masked;
        private final A dh;
        private final A dhCarry;
        private final A dr;
        private final A dc;
        private final A tmp;
        /** b_ih + b_hh of the running forward, and the array that reads b_hh. */
        private final A biasSum;
        private final A biasScratch;
        private A h;
        private A hState;
        private A[][] acts;
        /**
         * The running step's arguments, set before its row slices start (which may run on pool threads): the slice
         * bodies below are made once, so that a step allocates nothing when it runs in one piece.
         */
        private int stepS;
        private int stepT;
        private int stepIn;
        private int stepOut;
        private A[] stepGates;
        private A stepMask;
        private OffHeap stepSequence;
        private long stepRow;
        private Shape stepShape;
        private final RowSlice forwardCells = this::cellRows;
        private final RowSlice forwardOutputs = this::outputRows;
        private final RowSlice forwardRows = (from, to) -> {
            cellRows(from, to);
            outputRows(from, to);
        };
        private final RowSlice backwardOutputs = this::outputGradientRows;
        private final RowSlice backwardGates = this::gateGradientRows;
        private final RowSlice backwardRows = (from, to) -> {
            outputGradientRows(from, to);
            gateGradientRows(from, to);
        };

        Steps(Buffers buffers, int capacityBatch, int capacitySteps) {
            int maxCells = hidden * capacityBatch;
            int maxOuts = hOut * capacityBatch;
            b = buffers;
            c = num.allocMany(capacitySteps + 1, maxCells);
            bias = num.allocMany(4, maxCells);
            work = num.allocMany(4, maxCells);
            r = projections ? num.alloc(maxCells) : null;
            h = num.alloc(maxOuts);
            hState = num.alloc(maxOuts);
            masked = num.alloc(maxOuts);
            dh = num.alloc(maxOuts);
            dhCarry = num.alloc(maxOuts);
            dr = projections ? num.alloc(maxCells) : null;
            dc = num.alloc(maxCells);
            tmp = num.alloc(maxCells);
            biasSum = num.alloc(4 * hidden);
            biasScratch = num.alloc(4 * hidden);
        }

        @Override
        public void allocateActivations(int capacityBatch, int capacitySteps) {
            if (acts == null) {
                acts = num.allocGrid(capacitySteps, 4, hidden * capacityBatch);
            }
        }

        @Override
        public void initialState(int slot, A h0, A c0, int index, Shape shape) {
            GateMath.initialState(num, hidden, hOut, h0, c0, index, slot, hState, c[slot], b, shape);
        }

        @Override
        public void beginForward(LstmKernel.Weights w, Shape shape) {
            GateMath.biasSum(num, w, hidden, biasSum, biasScratch);
            for (int q = 0; q < 4; q++) {
                num.broadcastRows(bias[q], biasSum, q * hidden, hidden, shape.batch());
            }
        }

        @Override
        public void forwardStep(int t, int inSlot, int outSlot, LstmKernel.Weights w, boolean training, OffHeap y,
                                long outRow, Shape shape) {
            int n = shape.batch();
            int columns = shape.columns();
            num.gemm(false, false, 4 * hidden, n, hOut, w.wHh(), 0, hOut, b.states(), (long) inSlot * n,
                    shape.stateLd(), true, b.gates(), (long) t * n, columns);
            stepT = t;
            stepIn = inSlot;
            stepOut = outSlot;
            stepGates = training ? acts[t] : work;
            stepMask = masks == null ? null : masks[t];
            stepSequence = y;
            stepRow = outRow;
            stepShape = shape;
            if (projections) {
                rows(hidden, shape, forwardCells);
                num.gemm(false, false, hOut, n, hidden, w.wHr(), 0, hidden, b.projected(), (long) t * n, columns,
                        false, b.scratch(), 0, n);
                num.get(b.scratch(), 0, h, 0, shape.outs());
                rows(hOut, shape, forwardOutputs);
            } else {
                rows(hidden, shape, forwardRows);
            }
            A previous = hState;
            hState = h;
            h = previous;
        }

        /**
         * Rows {@code from .. to - 1} of a forward step's gates and cell: the gate columns into i, f, g, o, their
         * activations, c, and h (without projections) or the projection's input r, before masking; then c masked.
         */
        private void cellRows(int from, int to) {
            int n = stepShape.batch();
            int columns = stepShape.columns();
            long at = (long) stepT * n;
            A[] g = stepGates;
            A cPrev = c[stepIn];
            A cNew = c[stepOut];
            for (int q = 0; q < 4; q++) {
                for (int j = from; j < to; j++) {
                    num.get(b.gates(), (long) (q * hidden + j) * columns + at, g[q], j * n, n);
                }
            }
            int lo = from * n;
            int hi = to * n;
            num.sigmoid(g[0], bias[0], lo, hi);
            num.sigmoid(g[1], bias[1], lo, hi);
            num.tanh(g[2], bias[2], lo, hi);
            num.sigmoid(g[3], bias[3], lo, hi);
            num.cell(cNew, g[1], cPrev, g[0], g[2], lo, hi);
            if (projections) {
                num.outputGate(r, g[3], cNew, lo, hi);
                for (int j = from; j < to; j++) {
                    num.put(r, j * n, b.projected(), (long) j * columns + at, n);
                }
            } else {
                num.outputGate(h, g[3], cNew, lo, hi);
            }
            if (stepMask != null) {
                num.keep(cNew, cPrev, stepMask, lo, hi);
            }
        }

        /**
         * Rows {@code from .. to - 1} of a forward step's h (computed in {@code h}): masked, then written to the state
         * slot and to the output.
         */
        private void outputRows(int from, int to) {
            int n = stepShape.batch();
            int lo = from * n;
            int hi = to * n;
            A out = h;
            if (stepMask != null) {
                num.keep(h, hState, stepMask, lo, hi);
                num.multiply(masked, h, stepMask, lo, hi);
                out = masked;
            }
            for (int j = from; j < to; j++) {
                num.put(h, j * n, b.states(), (long) j * stepShape.stateLd() + (long) stepOut * n, n);
                num.put(out, j * n, stepSequence, (stepRow + j) * stepShape.columns() + (long) stepT * n, n);
            }
        }

        @Override
        public void endForward(int lastSlot, Shape shape) {
            // h and c are already in hState and c[lastSlot]
        }

        @Override
        public void beginBackward(Shape shape) {
            num.fill(dc, 0);
        }

        @Override
        public void backwardStep(int s, int t, int inSlot, int outSlot, LstmKernel.Weights w, OffHeap wHhT,
                                 OffHeap dy, long dyRow, Shape shape) {
            int n = shape.batch();
            int columns = shape.columns();
            stepS = s;
            stepT = t;
            stepIn = inSlot;
            stepOut = outSlot;
            stepMask = masks == null ? null : masks[t];
            stepSequence = dy;
            stepRow = dyRow;
            stepShape = shape;
            if (projections) {
                rows(hOut, shape, backwardOutputs);
                num.gemm(true, false, hidden, n, hOut, w.wHr(), 0, hidden, b.projectedGrad(), (long) t * n, columns,
                        false, b.scratch(), 0, n);
                num.get(b.scratch(), 0, dr, 0, shape.cells());
                rows(hidden, shape, backwardGates);
            } else {
                rows(hidden, shape, backwardRows);
            }
            if (s > 0) {
                num.gemm(false, false, hOut, n, 4 * hidden, wHhT, 0, 4 * hidden, b.gates(), (long) t * n, columns,
                        false, b.scratch(), 0, n);
                num.get(b.scratch(), 0, dhCarry, 0, shape.outs());
            }
        }

        /**
         * Rows {@code from .. to - 1} of a backward step's dL/dh: the output's gradient plus the one carried from the
         * step after, masked (with projections also into the projection's gradient columns).
         */
        private void outputGradientRows(int from, int to) {
            int n = stepShape.batch();
            int columns = stepShape.columns();
            long at = (long) stepT * n;
            int lo = from * n;
            int hi = to * n;
            for (int j = from; j < to; j++) {
                num.get(stepSequence, (stepRow + j) * columns + at, dh, j * n, n);
            }
            if (stepS < stepShape.steps() - 1) {
                num.addInPlace(dh, dhCarry, lo, hi);
            }
            if (stepMask != null) {
                num.multiplyInPlace(dh, stepMask, lo, hi);
            }
            if (projections) {
                for (int j = from; j < to; j++) {
                    num.put(dh, j * n, b.projectedGrad(), (long) j * columns + at, n);
                }
            }
        }

        /**
         * Rows {@code from .. to - 1} of a backward step's gate gradients from dL/d(o * tanh(c)) (dh, or with
         * projections dr) and the carried dL/dc, into the step's gate columns; dL/dc carried on to the step before.
         */
        private void gateGradientRows(int from, int to) {
            int n = stepShape.batch();
            int columns = stepShape.columns();
            int lo = from * n;
            int hi = to * n;
            A[] g = acts[stepT];
            A[] dg = work;
            A dOut = projections ? dr : dh;
            num.tanhOf(tmp, c[stepOut], lo, hi);
            num.addTanhGrad(dc, dOut, g[3], tmp, lo, hi);
            if (stepMask != null) {
                num.multiplyInPlace(dc, stepMask, lo, hi);
            }
            num.sigmoidGrad(dg[3], dOut, tmp, g[3], lo, hi);
            num.sigmoidGrad(dg[0], dc, g[2], g[0], lo, hi);
            num.tanhGrad(dg[2], dc, g[0], g[2], lo, hi);
            num.sigmoidGrad(dg[1], dc, c[stepIn], g[1], lo, hi);
            num.multiplyInPlace(dc, g[1], lo, hi);
            for (int q = 0; q < 4; q++) {
                for (int j = from; j < to; j++) {
                    num.put(dg[q], j * n, b.gates(), (long) (q * hidden + j) * columns + (long) stepT * n, n);
                }
            }
        }

        @Override
        public A finalHidden() {
            return hState;
        }

        @Override
        public A finalCell(int lastSlot) {
            return c[lastSlot];
        }
    }
}
