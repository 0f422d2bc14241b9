package io.torchlstm4j.kernel;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.platform.NativeGates;
import io.torchlstm4j.platform.NativeLibrary;
import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.OpenBlasKernels;
import io.torchlstm4j.platform.Precision;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The whole stacked, optionally bidirectional LSTM (with optional projections) forward and backward, on OpenBLAS
 * calls and Java loops over preallocated buffers.
 *
 * <p>Layout: every sequence tensor is feature-major, {@code [F, L * N]} with column {@code t * N + n}, so that
 * <ul>
 *   <li>the input projection of all steps of a layer and direction is one GEMM {@code W_ih [4H, I] x X [I, L*N]};</li>
 *   <li>each step is one GEMM {@code W_hh [4H, H_out] x h [H_out, N]} added into that step's gate columns (by
 *       OpenBLAS, or by {@link NativeGates#recurrent} for the shapes where that is faster and gives the same bits);
 *       a layer with few input features projects its input step by step too ({@link #projectsPerStep});</li>
 *   <li>the gate math runs over four separate Java arrays (i, f, g, o), each {@code [H, N]}, in plain loops the
 *       JIT vectorises; or, in float32 without projections where {@link NativeLibrary#nativeGateMath()}, in one native
 *       call per step on the gate buffer itself (the activations stay there for backward, c sits in native slots like
 *       h), with bit-identical results;</li>
 *   <li>backward computes the gate gradients step by step (one GEMM per step for the recurrent part), then every
 *       weight gradient and the input gradient in one GEMM over all steps.</li>
 * </ul>
 * States h of a direction sit in {@code [H_out, (L + 1) * N]}: slot s is columns {@code s*N .. s*N+N}. The forward
 * direction reads slot t at step t and writes slot t+1 (initial state in slot 0); the backward direction reads
 * slot t+1 and writes slot t (initial state in slot L). Cell states use the same slots, as Java arrays.
 *
 * <p>Lengths (PyTorch packed sequences): step t of sample n is valid when {@code t < lengths[n]}, in both directions.
 * At an invalid step the state is carried unchanged and the output is 0; in backward, the gradients of invalid
 * steps are zeroed, so no gradient comes from padding. Dropout follows PyTorch: one mask over each non-last
 * layer's whole output, in training only.
 *
 * <p>Buffers are reused while the batch size and sequence length stay the same. Not safe for concurrent use: one
 * call at a time per kernel (the layer gives each concurrent call a kernel of its own).
 *
 * @param <A> {@code float[]} or {@code double[]}
 */
public final class LstmKernel<A> {

    /** One layer and direction's parameters, or their gradients, in PyTorch's layout; biases and wHr may be null. */
    public record Weights(OffHeap wIh, OffHeap wHh, OffHeap bIh, OffHeap bHh, OffHeap wHr) {
    }

    /** Per-step GEMMs below this many FLOPs run on one BLAS thread (the MNIST model's are 2.1 M, the large case's 134 M). */
    static final double SMALL_GEMM_FLOPS = 1 << 24;

    /**
     * A whole call (forward or backward) whose largest GEMM is below this many FLOPs runs on one BLAS thread (the
     * MNIST model's largest is 59 M, the large case's 27 G): with ND4J's OpenMP worker spinning after each DL4J op, a
     * second OpenBLAS thread for a GEMM of a few hundred microseconds mostly waits for a CPU (figures in
     * docs/design.md).
     */
    public static final double SMALL_CALL_FLOPS = 1 << 28;

    /** Smallest per-step input projection (FLOPs) for {@link #projectsPerStep} (the MNIST model's is 0.9 M). */
    static final double STEP_PROJECTION_FLOPS = 1 << 19;

    private final LstmConfig config;
    private final Precision<A> num;
    private final DataType dataType;
    private final int hidden;
    private final int hOut;
    private final int dirs;

    /** Buffers are sized for up to this many samples and steps (they only grow). */
    private int capacityBatch;
    private int capacitySteps;
    /** The current call's N and L, and from them L * N (columns of a sequence tensor), (L + 1) * N, H * N, H_out * N. */
    private int batch;
    private int steps;
    private int columns;
    private int stateLd;
    private int cells;
    private int outs;
    private List<Layer> layers;
    /** The last {@link #prepare} view of the layer-0 input buffer for ND4J's copy (reused while the shape stays). */
    private INDArray inputView;
    private OffHeap ones;
    /** W_hh^T for backward ({@link #transposedRecurrentWeight}), with its two Java staging arrays. */
    private OffHeap recurrentT;
    private A recurrentRows;
    private A recurrentColumns;
    private A[] masks;
    /** With native gate math and lengths: per step, 1 where the step is valid for the sample, as [L, N]. */
    private OffHeap stepMask;
    /** The float32 gate math runs in {@link NativeGates} on the native buffers, not in Java arrays. */
    private final boolean nativeGateMath;
    private boolean stored;
    private boolean dropped;

    /**
     * @param nativeGateMath whether the gate math runs in {@link NativeGates} (see
     *                       {@link #nativeGateMath(LstmConfig, DataType)})
     */
    public LstmKernel(LstmConfig config, Precision<A> num, DataType dataType, boolean nativeGateMath) {
        this.config = config;
        this.num = num;
        this.dataType = dataType;
        this.hidden = config.hiddenSize();
        this.hOut = config.outputSize();
        this.dirs = config.numDirections();
        this.nativeGateMath = nativeGateMath;
        OpenBlasKernels.ensure();
    }

    /** True when a kernel for {@code config} and {@code dataType} made now runs the gate math in NativeGates. */
    public static boolean nativeGateMath(LstmConfig config, DataType dataType) {
        return dataType == DataType.FLOAT && config.projSize() == 0 && NativeLibrary.nativeGateMath();
    }

    /**
     * Sizes the buffers for {@code input}, {@code [H_in, L, N]} (any strides: a permuted view of the caller's input),
     * and copies it into the layer-0 input buffer: natively with {@link NativeGates}, else by ND4J.
     */
    public void prepare(INDArray input) {
        int steps = Math.toIntExact(input.size(1));
        int batch = Math.toIntExact(input.size(2));
        if (layers == null || batch > capacityBatch || steps > capacitySteps) {
            allocate(Math.max(batch, capacityBatch), Math.max(steps, capacitySteps));
        }
        this.batch = batch;
        this.steps = steps;
        this.columns = Math.toIntExact((long) steps * batch);
        this.stateLd = Math.toIntExact((long) (steps + 1) * batch);
        this.cells = Math.toIntExact((long) hidden * batch);
        this.outs = Math.toIntExact((long) hOut * batch);
        stored = false;
        if (nativeGateMath && NativeGates.copy(input, layers.get(0).x)) {
            return;
        }
        if (inputView == null || inputView.size(1) != steps || inputView.size(2) != batch) {
            inputView = layers.get(0).x.view(config.inputSize(), steps, batch);
        }
        inputView.assign(input);
    }

    /** True when the last forward ran in training mode and its activations are kept for {@link #backward}. */
    public boolean hasStoredForward() {
        return stored;
    }

    /**
     * Runs the LSTM over the input in {@link #prepare}'s buffer.
     *
     * @param weights  per layer and direction (index layer * D + direction)
     * @param h0       (numLayers * D, N, H_out) or null for zeros
     * @param c0       (numLayers * D, N, H) or null for zeros
     * @param lengths  N valid lengths in 1..L, or null for all L
     * @param training keeps what backward needs and applies dropout
     * @param output   contiguous c-order memory whose first elements receive the top layer's output as
     *                 {@code [D * H_out, L, N]} (it may be longer)
     */
    public void forward(List<Weights> weights, INDArray h0, INDArray c0, int[] lengths, boolean training, INDArray output) {
        runCall(() -> forwardLayers(weights, h0, c0, lengths, training, output));
    }

    private void forwardLayers(List<Weights> weights, INDArray h0, INDArray c0, int[] lengths, boolean training,
                               INDArray output) {
        masks = lengths == null || nativeGateMath ? null : masks(lengths);
        stepMask = lengths == null || !nativeGateMath ? null : stepMask(lengths);
        dropped = training && config.dropout() > 0 && config.numLayers() > 1;
        if (training) {
            allocateActivations();
        }
        A hAll = h0 == null ? null : read(h0);
        A cAll = c0 == null ? null : read(c0);
        for (int layer = 0; layer < config.numLayers(); layer++) {
            Layer l = layers.get(layer);
            OffHeap y = layer == config.numLayers() - 1 ? new OffHeap(output) : l.y;
            for (int dir = 0; dir < dirs; dir++) {
                forward(layer, dir, weights.get(layer * dirs + dir), hAll, cAll, training, y);
            }
            if (layer < config.numLayers() - 1 && l.y != layers.get(layer + 1).x) {
                feedNextLayer(layer);
            }
        }
        stored = training;
    }

    /** h_n as (numLayers * D, N, H_out) after {@link #forward}, in a fresh array. */
    public INDArray finalHidden() {
        INDArray hN = Nd4j.createUninitialized(dataType, (long) layers.size() * dirs, batch, hOut);
        writeFinalHidden(new OffHeap(hN), 0);
        return hN;
    }

    /** c_n as (numLayers * D, N, H) after {@link #forward}, in a fresh array. */
    public INDArray finalCell() {
        INDArray cN = Nd4j.createUninitialized(dataType, (long) layers.size() * dirs, batch, hidden);
        writeFinalCell(new OffHeap(cN), 0);
        return cN;
    }

    /** Writes h_n, (numLayers * D, N, H_out) c-order, at {@code dst[index ..]}. */
    public void writeFinalHidden(OffHeap dst, long index) {
        List<A> states = new ArrayList<>();
        for (Layer l : layers) {
            for (Direction d : l.directions) {
                states.add(d.hState);
            }
        }
        num.putStates(states, hOut, batch, dst, index);
    }

    /** Writes c_n, (numLayers * D, N, H) c-order, at {@code dst[index ..]}. */
    public void writeFinalCell(OffHeap dst, long index) {
        List<A> states = new ArrayList<>();
        for (Layer l : layers) {
            for (int dir = 0; dir < dirs; dir++) {
                states.add(l.directions.get(dir).c[dir == 0 ? steps : 0]);
            }
        }
        num.putStates(states, hidden, batch, dst, index);
    }

    /**
     * Gradients of {@code sum(output * outputGradient)} after a training {@link #forward}, written into
     * {@code gradients} (overwritten, never accumulated).
     *
     * @param outputGradient {@code [D * H_out, L, N]} c-order
     * @param inputGradient  {@code [H_in, L, N]} c-order to receive dL/d(input), or null when not needed
     */
    public void backward(List<Weights> weights, List<Weights> gradients, INDArray outputGradient, INDArray inputGradient) {
        if (!stored) {
            throw new IllegalStateException("internal: backward without a stored training forward");
        }
        runCall(() -> backwardLayers(weights, gradients, outputGradient, inputGradient));
    }

    private void backwardLayers(List<Weights> weights, List<Weights> gradients, INDArray outputGradient,
                                INDArray inputGradient) {
        OffHeap dy = new OffHeap(outputGradient);
        for (int layer = config.numLayers() - 1; layer >= 0; layer--) {
            OffHeap dx = layer > 0 ? layers.get(layer).dx : inputGradient == null ? null : new OffHeap(inputGradient);
            for (int dir = 0; dir < dirs; dir++) {
                int index = layer * dirs + dir;
                backward(layer, dir, weights.get(index), gradients.get(index), dy, dx);
            }
            if (layer > 0) {
                dy = layers.get(layer).dx;
                if (dropped) {
                    long features = config.layerInputSize(layer);
                    dy.view(features, columns).muli(layers.get(layer - 1).dropMask.view(features, columns));
                }
            }
        }
    }

    private void forward(int layer, int dir, Weights w, A h0, A c0, boolean training, OffHeap y) {
        Layer l = layers.get(layer);
        Direction d = l.directions.get(dir);
        int in = config.layerInputSize(layer);
        OffHeap x = projectsPerStep(in) ? l.x : null;
        if (x == null) {
            num.gemm(false, false, 4 * hidden, columns, in, w.wIh(), 0, in, l.x, 0, columns, false, d.gates, 0, columns);
        }
        initialState(layer, dir, h0, c0);
        if (nativeGateMath) {
            nativeForwardSteps(dir, w, d, x, in, y);
        } else {
            forwardSteps(dir, w, d, x, in, training, y);
        }
    }

    /**
     * True when a layer with {@code in} input features projects its input step by step, just before each step's
     * recurrent GEMM, instead of in one GEMM over all steps: when the input is narrower than 64 features and a step's
     * projection is at least {@value #STEP_PROJECTION_FLOPS} FLOPs. With few input features the one large GEMM does
     * little arithmetic per element of its output, the whole gate buffer, which it zeroes and writes out of cache;
     * a step's block, written just before its recurrent GEMM and gate math, stays in cache. Wider inputs and
     * smaller projections lose more to the extra calls than they gain (figures in docs/design.md).
     */
    private boolean projectsPerStep(int in) {
        return in < 64 && 2.0 * 4 * hidden * batch * in >= STEP_PROJECTION_FLOPS;
    }

    /** The input projection of step t, {@code W_ih x_t}, into the step's gate columns (overwritten). */
    private void projectStep(Weights w, OffHeap x, int in, int t, Direction d) {
        num.gemm(false, false, 4 * hidden, batch, in, w.wIh(), 0, in, x, (long) t * batch, columns, false, d.gates,
                (long) t * batch, columns);
    }

    /**
     * The steps of a direction with the gate math in Java arrays (the h and c states there too). {@code x} is the
     * layer's input when each step projects it ({@link #projectsPerStep}), else null (the gates hold the projection).
     */
    private void forwardSteps(int dir, Weights w, Direction d, OffHeap x, int inputSize, boolean training, OffHeap y) {
        int n = batch;
        int len = steps;
        A sum = biasSum(w);
        for (int q = 0; q < 4; q++) {
            if (sum == null) {
                num.fill(d.bias[q], 0);
            } else {
                num.broadcastRows(d.bias[q], sum, q * hidden, hidden, n);
            }
        }
        stepLoop(() -> {
            for (int s = 0; s < len; s++) {
                int t = dir == 0 ? s : len - 1 - s;
                int inSlot = dir == 0 ? t : t + 1;
                int outSlot = dir == 0 ? t + 1 : t;
                if (x != null) {
                    projectStep(w, x, inputSize, t, d);
                }
                num.gemm(false, false, 4 * hidden, n, hOut, w.wHh(), 0, hOut, d.states, (long) inSlot * n, stateLd,
                        true, d.gates, (long) t * n, columns);
                A[] g = training ? d.acts[t] : d.work;
                for (int q = 0; q < 4; q++) {
                    for (int j = 0; j < hidden; j++) {
                        num.get(d.gates, (long) (q * hidden + j) * columns + (long) t * n, g[q], j * n, n);
                    }
                }
                num.sigmoid(g[0], d.bias[0], cells);
                num.sigmoid(g[1], d.bias[1], cells);
                num.tanh(g[2], d.bias[2], cells);
                num.sigmoid(g[3], d.bias[3], cells);
                A cPrev = d.c[inSlot];
                A c = d.c[outSlot];
                num.cell(c, g[1], cPrev, g[0], g[2], cells);
                if (config.projSize() > 0) {
                    num.outputGate(d.r, g[3], c, cells);
                    for (int j = 0; j < hidden; j++) {
                        num.put(d.r, j * n, d.projected, (long) j * columns + (long) t * n, n);
                    }
                    num.gemm(false, false, hOut, n, hidden, w.wHr(), 0, hidden, d.projected, (long) t * n, columns, false,
                            d.scratch, 0, n);
                    num.get(d.scratch, 0, d.h, 0, outs);
                } else {
                    num.outputGate(d.h, g[3], c, cells);
                }
                A out = d.h;
                if (masks != null) {
                    A mask = masks[t];
                    num.keep(c, cPrev, mask, cells);
                    num.keep(d.h, d.hState, mask, outs);
                    num.multiply(d.masked, d.h, mask, outs);
                    out = d.masked;
                }
                A previous = d.hState;
                d.hState = d.h;
                d.h = previous;
                for (int j = 0; j < hOut; j++) {
                    num.put(d.hState, j * n, d.states, (long) j * stateLd + (long) outSlot * n, n);
                    num.put(out, j * n, y, (long) (dir * hOut + j) * columns + (long) t * n, n);
                }
            }
        });
    }

    /**
     * The steps of a direction with {@link NativeGates}: the activations stay in the gate buffer (where backward
     * reads them), h and c in their native slot buffers; at the end the final states are copied to
     * {@code d.hState} and {@code d.c} for {@link #writeFinalHidden} and {@link #writeFinalCell}. {@code x} as in
     * {@link #forwardSteps}.
     */
    private void nativeForwardSteps(int dir, Weights w, Direction d, OffHeap x, int inputSize, OffHeap y) {
        int n = batch;
        int len = steps;
        A sum = biasSum(w);
        if (sum == null) {
            sum = num.alloc(4 * hidden);
        }
        num.put(sum, 0, d.biasSum, 0, 4 * hidden);
        boolean recurrent = smallSteps() && NativeGates.recurrentFits(4 * hidden, n, hOut);
        stepLoop(() -> {
            for (int s = 0; s < len; s++) {
                int t = dir == 0 ? s : len - 1 - s;
                long in = (long) (dir == 0 ? t : t + 1) * n;
                long out = (long) (dir == 0 ? t + 1 : t) * n;
                if (x != null) {
                    projectStep(w, x, inputSize, t, d);
                }
                if (recurrent) {
                    NativeGates.recurrent(w.wHh(), d.states, in, stateLd, d.gates, (long) t * n, columns, 4 * hidden, n,
                            hOut, true);
                } else {
                    num.gemm(false, false, 4 * hidden, n, hOut, w.wHh(), 0, hOut, d.states, in, stateLd, true,
                            d.gates, (long) t * n, columns);
                }
                NativeGates.forwardStep(d.gates, (long) t * n, columns, d.biasSum, d.cStates, in, out, d.states, in,
                        out, stateLd, y, (long) dir * hOut * columns + (long) t * n, columns, stepMask, (long) t * n,
                        hidden, n);
            }
        });
        int last = dir == 0 ? steps : 0;
        for (int j = 0; j < hidden; j++) {
            num.get(d.states, (long) j * stateLd + (long) last * n, d.hState, j * n, n);
            num.get(d.cStates, (long) j * stateLd + (long) last * n, d.c[last], j * n, n);
        }
    }

    /**
     * Runs a whole forward or backward on one BLAS thread when its largest GEMM (an input projection, a weight
     * gradient or the input gradient: 2 * 4H * L*N * max(input size, H_out) FLOPs) is below {@value #SMALL_CALL_FLOPS}
     * FLOPs, else on the configured count (a section of {@link OpenBlasKernels#withThreads}, so that its products are
     * split the same way whatever other threads run).
     */
    private void runCall(Runnable call) {
        if (largestGemmFlops() < SMALL_CALL_FLOPS) {
            OpenBlasKernels.singleThreaded(call);
        } else {
            OpenBlasKernels.configuredThreads(call);
        }
    }

    /** FLOPs of the largest GEMM of a call with the current batch size and length. */
    private double largestGemmFlops() {
        double largest = 0;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            largest = Math.max(largest, 2.0 * 4 * hidden * columns * Math.max(config.layerInputSize(layer), hOut));
        }
        return largest;
    }

    /**
     * Runs a loop over the steps, whose recurrent GEMMs are small: on one BLAS thread when a step's GEMM is below
     * {@value #SMALL_GEMM_FLOPS} FLOPs (see {@link OpenBlasKernels#singleThreaded}), else as configured.
     */
    private void stepLoop(Runnable loop) {
        if (smallSteps()) {
            OpenBlasKernels.singleThreaded(loop);
        } else {
            loop.run();
        }
    }

    /** True when a step's recurrent GEMM is below {@value #SMALL_GEMM_FLOPS} FLOPs (one BLAS thread does it). */
    private boolean smallSteps() {
        return 2.0 * 4 * hidden * batch * hOut < SMALL_GEMM_FLOPS;
    }

    private void backward(int layer, int dir, Weights w, Weights grad, OffHeap dy, OffHeap dx) {
        Layer l = layers.get(layer);
        Direction d = l.directions.get(dir);
        int n = batch;
        int in = config.layerInputSize(layer);
        num.fill(d.dc, 0);
        OffHeap wHhT = transposedRecurrentWeight(w);
        if (nativeGateMath) {
            num.put(d.dc, 0, d.dcBuffer, 0, cells);
            nativeBackwardSteps(dir, d, wHhT, dy);
        } else {
            backwardSteps(dir, w, d, wHhT, dy);
        }
        num.gemm(false, true, 4 * hidden, in, columns, d.gates, 0, columns, l.x, 0, columns, false, grad.wIh(), 0, in);
        num.gemm(false, true, 4 * hidden, hOut, columns, d.gates, 0, columns, d.states, dir == 0 ? 0 : n, stateLd, false,
                grad.wHh(), 0, hOut);
        if (config.bias()) {
            num.gemv(4 * hidden, columns, d.gates, columns, ones, grad.bIh());
            grad.bHh().view(4L * hidden).assign(grad.bIh().view(4L * hidden));
        }
        if (config.projSize() > 0) {
            num.gemm(false, true, hOut, hidden, columns, d.projectedGrad, 0, columns, d.projected, 0, columns, false, grad.wHr(), 0,
                    hidden);
        }
        if (dx != null) {
            num.gemm(true, false, in, columns, 4 * hidden, w.wIh(), 0, in, d.gates, 0, columns, dir > 0, dx, 0, columns);
        }
    }

    /** Backward's steps with the gate math in Java arrays: the gate gradients go to {@code d.gates}. */
    private void backwardSteps(int dir, Weights w, Direction d, OffHeap wHhT, OffHeap dy) {
        int n = batch;
        int len = steps;
        stepLoop(() -> {
            for (int s = len - 1; s >= 0; s--) {
                int t = dir == 0 ? s : len - 1 - s;
                int inSlot = dir == 0 ? t : t + 1;
                int outSlot = dir == 0 ? t + 1 : t;
                for (int j = 0; j < hOut; j++) {
                    num.get(dy, (long) (dir * hOut + j) * columns + (long) t * n, d.dh, j * n, n);
                }
                if (s < len - 1) {
                    num.addInPlace(d.dh, d.dhCarry, outs);
                }
                if (masks != null) {
                    num.multiplyInPlace(d.dh, masks[t], outs);
                }
                A dr = d.dh;
                if (config.projSize() > 0) {
                    for (int j = 0; j < hOut; j++) {
                        num.put(d.dh, j * n, d.projectedGrad, (long) j * columns + (long) t * n, n);
                    }
                    num.gemm(true, false, hidden, n, hOut, w.wHr(), 0, hidden, d.projectedGrad, (long) t * n, columns, false,
                            d.scratch, 0, n);
                    num.get(d.scratch, 0, d.dr, 0, cells);
                    dr = d.dr;
                }
                A[] g = d.acts[t];
                A[] dg = d.work;
                num.tanhOf(d.tmp, d.c[outSlot], cells);
                num.addTanhGrad(d.dc, dr, g[3], d.tmp, cells);
                if (masks != null) {
                    num.multiplyInPlace(d.dc, masks[t], cells);
                }
                num.sigmoidGrad(dg[3], dr, d.tmp, g[3], cells);
                num.sigmoidGrad(dg[0], d.dc, g[2], g[0], cells);
                num.tanhGrad(dg[2], d.dc, g[0], g[2], cells);
                num.sigmoidGrad(dg[1], d.dc, d.c[inSlot], g[1], cells);
                num.multiplyInPlace(d.dc, g[1], cells);
                for (int q = 0; q < 4; q++) {
                    for (int j = 0; j < hidden; j++) {
                        num.put(dg[q], j * n, d.gates, (long) (q * hidden + j) * columns + (long) t * n, n);
                    }
                }
                if (s > 0) {
                    num.gemm(false, false, hOut, n, 4 * hidden, wHhT, 0, 4 * hidden, d.gates, (long) t * n, columns,
                            false, d.scratch, 0, n);
                    num.get(d.scratch, 0, d.dhCarry, 0, outs);
                }
            }
        });
    }

    /**
     * Backward's steps with {@link NativeGates}, on the activations and states {@link #nativeForwardSteps} left:
     * the recurrent gradient of each step stays in {@code d.scratch} for the next.
     */
    private void nativeBackwardSteps(int dir, Direction d, OffHeap wHhT, OffHeap dy) {
        int n = batch;
        int len = steps;
        boolean recurrent = smallSteps() && NativeGates.recurrentFits(hOut, n, 4 * hidden);
        stepLoop(() -> {
            for (int s = len - 1; s >= 0; s--) {
                int t = dir == 0 ? s : len - 1 - s;
                long in = (long) (dir == 0 ? t : t + 1) * n;
                long out = (long) (dir == 0 ? t + 1 : t) * n;
                NativeGates.backwardStep(d.gates, (long) t * n, columns, dy, (long) dir * hOut * columns + (long) t * n,
                        columns, s < len - 1 ? d.scratch : null, d.cStates, out, in, stateLd, d.dcBuffer, stepMask,
                        (long) t * n, hidden, n, s == 0 ? 0 : dir == 0 ? -n : n);
                if (s > 0 && recurrent) {
                    NativeGates.recurrent(wHhT, d.gates, (long) t * n, columns, d.scratch, 0, n, hOut, n, 4 * hidden,
                            false);
                } else if (s > 0) {
                    num.gemm(false, false, hOut, n, 4 * hidden, wHhT, 0, 4 * hidden, d.gates, (long) t * n, columns,
                            false, d.scratch, 0, n);
                }
            }
        });
    }

    /**
     * W_hh^T [H_out, 4H], so that backward's per-step product dh = W_hh^T dgates is a plain (not transposed) GEMM,
     * which OpenBLAS runs faster. One buffer serves every layer and direction in turn.
     */
    private OffHeap transposedRecurrentWeight(Weights w) {
        int size = 4 * hidden * hOut;
        if (recurrentT == null) {
            recurrentT = buffer(hOut, 4L * hidden);
            recurrentRows = num.alloc(size);
            recurrentColumns = num.alloc(size);
        }
        num.get(w.wHh(), 0, recurrentRows, 0, size);
        num.transpose(recurrentRows, 0, 4 * hidden, hOut, recurrentColumns);
        num.put(recurrentColumns, 0, recurrentT, 0, size);
        return recurrentT;
    }

    /** b_ih + b_hh (4H values), or null without biases. */
    private A biasSum(Weights w) {
        if (!config.bias()) {
            return null;
        }
        A sum = num.alloc(4 * hidden);
        A other = num.alloc(4 * hidden);
        num.get(w.bIh(), 0, sum, 0, 4 * hidden);
        num.get(w.bHh(), 0, other, 0, 4 * hidden);
        num.addInPlace(sum, other, 4 * hidden);
        return sum;
    }

    /** Sets the initial state of a layer and direction from (numLayers * D, N, size) Java arrays, or zeros. */
    private void initialState(int layer, int dir, A h0, A c0) {
        Direction d = layers.get(layer).directions.get(dir);
        int n = batch;
        int slot = dir == 0 ? 0 : steps;
        if (h0 == null) {
            num.fill(d.hState, 0);
            num.fill(d.c[slot], 0);
        } else {
            int index = layer * dirs + dir;
            num.transpose(h0, index * outs, n, hOut, d.hState);
            num.transpose(c0, index * cells, n, hidden, d.c[slot]);
        }
        for (int j = 0; j < hOut; j++) {
            num.put(d.hState, j * n, d.states, (long) j * stateLd + (long) slot * n, n);
        }
        if (nativeGateMath) {
            for (int j = 0; j < hidden; j++) {
                num.put(d.c[slot], j * n, d.cStates, (long) j * stateLd + (long) slot * n, n);
            }
        }
    }

    /** All elements of an array, in c order, as a Java array. */
    private A read(INDArray array) {
        INDArray dense = OffHeap.isContiguous(array) ? array : array.dup('c');
        A values = num.alloc(Math.toIntExact(dense.length()));
        num.get(new OffHeap(dense), 0, values, 0, Math.toIntExact(dense.length()));
        return values;
    }

    /** Layer k+1's input: layer k's output, times a fresh dropout mask in training. */
    private void feedNextLayer(int layer) {
        long features = (long) dirs * hOut;
        INDArray y = layers.get(layer).y.view(features, columns);
        INDArray next = layers.get(layer + 1).x.view(features, columns);
        if (!dropped) {
            next.assign(y);
            return;
        }
        INDArray mask = layers.get(layer).dropMask.view(features, columns);
        double keep = 1 - config.dropout();
        if (keep == 0) {
            mask.assign(0);
        } else {
            Nd4j.getExecutioner().exec(new BernoulliDistribution(mask, keep));
            mask.muli(1 / keep);
        }
        next.assign(y).muli(mask);
    }

    /** [L, N]: 1 where step t is valid for sample n, 0 where it is padding (native gate math). */
    private OffHeap stepMask(int[] lengths) {
        float[] values = new float[steps * batch];
        for (int t = 0; t < steps; t++) {
            for (int s = 0; s < batch; s++) {
                values[t * batch + s] = t < lengths[s] ? 1f : 0f;
            }
        }
        OffHeap mask = buffer(steps, batch);
        mask.floats().put(0, values);
        return mask;
    }

    /** Per step, 1 where the step is valid for the sample and 0 where it is padding, as [H, N] arrays. */
    private A[] masks(int[] lengths) {
        A[] result = num.allocMany(steps, 0);
        for (int t = 0; t < steps; t++) {
            result[t] = num.validity(lengths, t, hidden);
        }
        return result;
    }

    /** (Re)allocates every buffer for up to {@code maxBatch} samples and {@code maxSteps} steps. */
    private void allocate(int maxBatch, int maxSteps) {
        inputView = null;
        capacityBatch = maxBatch;
        capacitySteps = maxSteps;
        long maxColumns = (long) maxSteps * maxBatch;
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            ones = new OffHeap(Nd4j.ones(dataType, maxColumns));
            layers = new ArrayList<>();
            for (int layer = 0; layer < config.numLayers(); layer++) {
                layers.add(new Layer(layer, layer == 0 ? null : layers.get(layer - 1), maxColumns));
            }
        }
    }

    private void allocateActivations() {
        if (nativeGateMath) {
            return;
        }
        for (Layer l : layers) {
            for (Direction d : l.directions) {
                if (d.acts == null) {
                    d.acts = num.allocGrid(capacitySteps, 4, hidden * capacityBatch);
                }
            }
        }
    }

    private OffHeap buffer(long rows, long cols) {
        return new OffHeap(Nd4j.createUninitializedDetached(dataType, rows * cols));
    }

    /** The buffers of one layer, sized for the capacity. */
    private final class Layer {
        final OffHeap x;
        final OffHeap y;
        final OffHeap dx;
        final OffHeap dropMask;
        final List<Direction> directions = new ArrayList<>();

        Layer(int layer, Layer below, long maxColumns) {
            int in = config.layerInputSize(layer);
            boolean last = layer == config.numLayers() - 1;
            boolean dropout = config.dropout() > 0;
            x = below == null || dropout ? buffer(in, maxColumns) : below.y;
            y = last ? null : buffer((long) dirs * hOut, maxColumns);
            dx = layer > 0 ? buffer(in, maxColumns) : null;
            dropMask = !last && dropout ? buffer((long) dirs * hOut, maxColumns) : null;
            for (int d = 0; d < dirs; d++) {
                directions.add(new Direction(maxColumns));
            }
        }
    }

    /** The buffers of one layer and direction, sized for the capacity. */
    private final class Direction {
        final OffHeap gates;
        final OffHeap states;
        final OffHeap projected;
        final OffHeap projectedGrad;
        final OffHeap scratch;
        /** Native gate math only: c in slots like {@code states}, b_ih + b_hh, and backward's carried dc. */
        final OffHeap cStates;
        final OffHeap biasSum;
        final OffHeap dcBuffer;
        final A[] c;
        final A[] bias;
        final A[] work;
        final A r;
        final A masked;
        final A dh;
        final A dhCarry;
        final A dr;
        final A dc;
        final A tmp;
        A h;
        A hState;
        A[][] acts;

        Direction(long maxColumns) {
            int maxCells = hidden * capacityBatch;
            int maxOuts = hOut * capacityBatch;
            boolean proj = config.projSize() > 0;
            gates = buffer(4L * hidden, maxColumns);
            states = buffer(hOut, (long) (capacitySteps + 1) * capacityBatch);
            projected = proj ? buffer(hidden, maxColumns) : null;
            projectedGrad = proj ? buffer(hOut, maxColumns) : null;
            scratch = buffer(Math.max(hidden, hOut), capacityBatch);
            cStates = nativeGateMath ? buffer(hidden, (long) (capacitySteps + 1) * capacityBatch) : null;
            biasSum = nativeGateMath ? buffer(4L * hidden, 1) : null;
            dcBuffer = nativeGateMath ? buffer(hidden, capacityBatch) : null;
            if (nativeGateMath) {
                // c lives in cStates; every slot here is one array that only carries the initial state in and
                // the final state out (initialState and nativeForwardSteps use it one after the other).
                c = num.allocMany(capacitySteps + 1, 0);
                Arrays.fill(c, num.alloc(maxCells));
            } else {
                c = num.allocMany(capacitySteps + 1, maxCells);
            }
            // the Java gate math's bias and per-step gate arrays: the native gate math has its own in native memory
            bias = nativeGateMath ? null : num.allocMany(4, maxCells);
            work = nativeGateMath ? null : num.allocMany(4, maxCells);
            r = proj ? num.alloc(maxCells) : null;
            h = num.alloc(maxOuts);
            hState = num.alloc(maxOuts);
            masked = num.alloc(maxOuts);
            dh = num.alloc(maxOuts);
            dhCarry = num.alloc(maxOuts);
            dr = proj ? num.alloc(maxCells) : null;
            dc = num.alloc(maxCells);
            tmp = num.alloc(maxCells);
        }
    }
}
