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
        /** W_hh^T of the running forward where its steps use {@link Precision#columnProducts}, else null. */
        private A[] recurrentT;
        private A[] productSums;

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
        public void beginForward(LstmKernel.Weights w, A[] recurrentT, Shape shape) {
            this.recurrentT = recurrentT; // non-null only for a small batch (the kernel decides)
            if (this.recurrentT != null && productSums == null) {
                productSums = num.allocMany(ColumnProducts.MAX_COLUMNS, 4 * hidden);
            }
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
            int cells = shape.cells();
            int outs = shape.outs();
            if (recurrentT == null) {
                num.gemm(false, false, 4 * hidden, n, hOut, w.wHh(), 0, hOut, b.states(), (long) inSlot * n,
                        shape.stateLd(), true, b.gates(), (long) t * n, columns);
            }
            A[] g = training ? acts[t] : work;
            for (int q = 0; q < 4; q++) {
                if (columns == n) { // one step: the gate's rows are one block
                    num.get(b.gates(), (long) q * hidden * n, g[q], 0, cells);
                    continue;
                }
                for (int j = 0; j < hidden; j++) {
                    num.get(b.gates(), (long) (q * hidden + j) * columns + (long) t * n, g[q], j * n, n);
                }
            }
            if (recurrentT != null) {
                // a small batch: hState is h of slot inSlot ([H_out][n]), and g[q] gets what the GEMM would have added
                num.columnProducts(recurrentT, 4 * hidden, hOut, hState, n, productSums);
                for (int q = 0; q < 4; q++) {
                    num.addColumns(g[q], productSums, q * hidden, hidden, n);
                }
            }
            num.sigmoid(g[0], bias[0], cells);
            num.sigmoid(g[1], bias[1], cells);
            num.tanh(g[2], bias[2], cells);
            num.sigmoid(g[3], bias[3], cells);
            A cPrev = c[inSlot];
            A cNew = c[outSlot];
            num.cell(cNew, g[1], cPrev, g[0], g[2], cells);
            if (projections) {
                num.outputGate(r, g[3], cNew, cells);
                for (int j = 0; j < hidden; j++) {
                    num.put(r, j * n, b.projected(), (long) j * columns + (long) t * n, n);
                }
                num.gemm(false, false, hOut, n, hidden, w.wHr(), 0, hidden, b.projected(), (long) t * n, columns,
                        false, b.scratch(), 0, n);
                num.get(b.scratch(), 0, h, 0, outs);
            } else {
                num.outputGate(h, g[3], cNew, cells);
            }
            A out = h;
            if (masks != null) {
                A mask = masks[t];
                num.keep(cNew, cPrev, mask, cells);
                num.keep(h, hState, mask, outs);
                num.multiply(masked, h, mask, outs);
                out = masked;
            }
            A previous = hState;
            hState = h;
            h = previous;
            for (int j = 0; j < hOut; j++) {
                num.put(hState, j * n, b.states(), (long) j * shape.stateLd() + (long) outSlot * n, n);
            }
            if (columns == n) { // one step: the output's rows are one block
                num.put(out, 0, y, outRow * n, outs);
                return;
            }
            for (int j = 0; j < hOut; j++) {
                num.put(out, j * n, y, (outRow + j) * columns + (long) t * n, n);
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
            int cells = shape.cells();
            int outs = shape.outs();
            for (int j = 0; j < hOut; j++) {
                num.get(dy, (dyRow + j) * columns + (long) t * n, dh, j * n, n);
            }
            if (s < shape.steps() - 1) {
                num.addInPlace(dh, dhCarry, outs);
            }
            if (masks != null) {
                num.multiplyInPlace(dh, masks[t], outs);
            }
            A dOut = dh;
            if (projections) {
                for (int j = 0; j < hOut; j++) {
                    num.put(dh, j * n, b.projectedGrad(), (long) j * columns + (long) t * n, n);
                }
                num.gemm(true, false, hidden, n, hOut, w.wHr(), 0, hidden, b.projectedGrad(), (long) t * n, columns,
                        false, b.scratch(), 0, n);
                num.get(b.scratch(), 0, dr, 0, cells);
                dOut = dr;
            }
            A[] g = acts[t];
            A[] dg = work;
            num.tanhOf(tmp, c[outSlot], cells);
            num.addTanhGrad(dc, dOut, g[3], tmp, cells);
            if (masks != null) {
                num.multiplyInPlace(dc, masks[t], cells);
            }
            num.sigmoidGrad(dg[3], dOut, tmp, g[3], cells);
            num.sigmoidGrad(dg[0], dc, g[2], g[0], cells);
            num.tanhGrad(dg[2], dc, g[0], g[2], cells);
            num.sigmoidGrad(dg[1], dc, c[inSlot], g[1], cells);
            num.multiplyInPlace(dc, g[1], cells);
            for (int q = 0; q < 4; q++) {
                for (int j = 0; j < hidden; j++) {
                    num.put(dg[q], j * n, b.gates(), (long) (q * hidden + j) * columns + (long) t * n, n);
                }
            }
            if (s > 0) {
                num.gemm(false, false, hOut, n, 4 * hidden, wHhT, 0, 4 * hidden, b.gates(), (long) t * n, columns,
                        false, b.scratch(), 0, n);
                num.get(b.scratch(), 0, dhCarry, 0, outs);
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
