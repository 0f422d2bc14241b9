package io.torchlstm4j.kernel;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.SequenceLayout;
import io.torchlstm4j.platform.NativeGates;
import io.torchlstm4j.platform.NativeLibrary;
import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.OpenBlasKernels;
import io.torchlstm4j.platform.PackedGemm;
import io.torchlstm4j.platform.Precision;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The whole stacked, optionally bidirectional LSTM (with optional projections) forward and backward, on OpenBLAS
 * calls and a {@link GateMath} over preallocated buffers.
 *
 * <p>Layout: every sequence tensor is feature-major, {@code [F, L * N]} with column {@code t * N + n}, so that
 * <ul>
 *   <li>the input projection of all steps of a layer and direction is one GEMM {@code W_ih [4H, I] x X [I, L*N]};
 *       a layer with few input features projects its input step by step ({@link #projectsPerStep}), and a
 *       unidirectional stack's upper layers project theirs in blocks of steps ({@link #blockSteps});</li>
 *   <li>each step is one GEMM {@code W_hh [4H, H_out] x h [H_out, N]} added into that step's gate columns, then the
 *       gate math ({@link JavaGateMath}, or {@link NativeGateMath} in float32 without projections where
 *       {@link NativeLibrary#nativeGateMath()}; the same bits);</li>
 *   <li>backward computes the gate gradients step by step (one GEMM per step for the recurrent part), then every
 *       weight gradient and the input gradient in one GEMM over all steps (in blocks of steps for a unidirectional
 *       stack's upper layers, whose input gradient the layer below consumes).</li>
 * </ul>
 * States h of a direction sit in {@code [H_out, (L + 1) * N]}: slot s is columns {@code s*N .. s*N+N}. The forward
 * direction reads slot t at step t and writes slot t+1 (initial state in slot 0); the backward direction reads
 * slot t+1 and writes slot t (initial state in slot L).
 *
 * <p>Schedule: with more than one configured BLAS thread and a call that runs on one BLAS thread (a small call,
 * {@link #SMALL_CALL_FLOPS}, or one with a stream per BLAS thread: {@link #runsOnOneThread}), the directions of a
 * bidirectional layer run at once, and the layers of a
 * unidirectional stack run as a wavefront (layer l + 1 projects a block of steps once layer l has written it; in
 * backward, layer l runs step t once layer l + 1 has written its input gradient there), each stream on one thread
 * ({@link StepStreams}). Every GEMM is the same call with the same operands in either schedule, so the results are
 * bit-identical to running the streams one after the other (the schedule at one thread, or with
 * {@code -Dtorchlstm4j.schedule=sequential}).
 *
 * <p>Lengths (PyTorch packed sequences): step t of sample n is valid when {@code t < lengths[n]}, in both directions.
 * At an invalid step the state is carried unchanged and the output is 0; in backward, the gradients of invalid
 * steps are zeroed, so no gradient comes from padding. Dropout follows PyTorch: one mask over each non-last
 * layer's whole output, in training only, drawn from ND4J's random generator in layer order before any layer runs.
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
     * docs/design.md). A larger call runs on one BLAS thread too when it has at least as many streams as BLAS
     * threads (see {@link #runsOnOneThread}); else it keeps its GEMMs on every BLAS thread and runs its streams one after
     * the other, since OpenBLAS gives a float32 product other bits on one thread than on two (docs/performance.md,
     * "Streams").
     */
    public static final double SMALL_CALL_FLOPS = 1 << 28;

    /** Smallest per-step input projection (FLOPs) for {@link #projectsPerStep} (the MNIST model's is 0.9 M). */
    static final double STEP_PROJECTION_FLOPS = 1 << 19;

    /** Columns (steps times batch) per block of a wavefront layer's input projection and input gradient. */
    static final int BLOCK_COLUMNS = 128;

    /** Blocks of input projection that a wavefront's stream took over from the stream above it ({@link #projectAhead}). */
    static final AtomicLong PROJECTED_AHEAD = new AtomicLong();
    /** Input-gradient blocks computed by {@link #takeOverInputGradients} (for tests). */
    static final AtomicLong GRADIENTS_TAKEN_OVER = new AtomicLong();

    /**
     * Tests set this to run {@link #projectAhead} and {@link #takeOverInputGradients} in the sequential schedule too,
     * where they are deterministic: the stream that takes over, which runs first, does every block.
     */
    static volatile boolean takeOverOnOneThread;

    /** System property: {@code auto} (default: streams at once where they can be) or {@code sequential}. */
    static final String SCHEDULE_PROPERTY = "torchlstm4j.schedule";

    /** A stream's progress value once its input gradient is written (bidirectional layers, see backward). */
    private static final int INPUT_GRADIENT_WRITTEN = Integer.MAX_VALUE;

    private final LstmConfig config;
    private final Precision<A> num;
    private final DataType dataType;
    private final int hidden;
    private final int hOut;
    private final int dirs;
    private final GateMath<A> gateMath;
    /**
     * The Java gate math for the calls of a small batch that take their products from {@link ColumnProducts}, where
     * {@link #gateMath} is native (the native steps read h from native memory and have no column products); else
     * {@link #gateMath} itself. Both give the same bits.
     */
    private final GateMath<A> smallBatchMath;
    /** Whether the last forward, and the backward that follows it, run {@link #smallBatchMath}'s directions. */
    private boolean smallBatchSteps;
    /**
     * Whether {@link #prepare} and {@link #backward} copy the caller's input and output gradient with
     * {@link NativeGates#copy}, and the input projections and input gradients may use its product (the native library
     * is in use).
     */
    private final boolean nativeLibrary;

    /** Buffers are sized for up to this many samples and steps (they only grow). */
    private int capacityBatch;
    private int capacitySteps;
    /** The current call's N and L, and the sizes that follow from them. */
    private int batch;
    private int steps;
    private int columns;
    private GateMath.Shape shape;
    private List<Layer> layers;
    /** The layer-0 input buffer as a view in the caller's layout, for ND4J's copy (see {@link #prepare}). */
    private final CallerView inputView = new CallerView();
    /** The top layer's output gradient, copied from the caller's tensor by {@link #backward} (made at its first use). */
    private OffHeap outputGradient;
    private final CallerView outputGradientView = new CallerView();
    private OffHeap ones;
    /** {@link #copyIn}'s staging of a single column (made at first use). */
    private A oneColumn;
    /** The two Java staging arrays of {@link #transpose}. */
    private A transposeRows;
    private A transposeColumns;
    /**
     * Java arrays reused by every call: h0 and c0 as read ({@link #read}), and the staging of h_n and c_n
     * ({@link #writeFinalHidden}), each sized for (numLayers * D, capacity batch, max(H, H_out)).
     */
    private A initialHidden;
    private A initialCell;
    private A finalStaging;
    private final List<A> finalStates = new ArrayList<>();
    private boolean stored;
    private boolean dropped;
    /**
     * Calls this kernel has run. Its first call runs no product checks (a few milliseconds per shape, most of them a
     * process's first use of the code): the shapes not checked yet take OpenBLAS's products, which give the same bits,
     * so that a program's first forward does not wait for work it does not need; the checks run from the second call.
     */
    private long callsRun;
    /** The running call's streams run at once, inside the caller's one-thread BLAS section. */
    private boolean concurrentCall;
    /** Whether this backward's input-gradient blocks take the AVX2 product ({@link #prepareNativeInputGradients}). */
    private boolean nativeInputGradients;
    /**
     * Whether the current call runs on one BLAS thread ({@link #runsOnOneThread}): decided by {@link #prepare} for the
     * forward and the backward that follows it (the same shapes).
     */
    private boolean oneThreadCall;
    /** The running forward's products of a small batch ({@link ColumnProducts}), or null for GEMMs throughout. */
    private ColumnProducts<A> columnProducts;

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
        GateMath<A> java = new JavaGateMath<>(num, hidden, hOut, config.projSize() > 0);
        this.gateMath = nativeGateMath ? new NativeGateMath<>(num, hidden, hOut) : java;
        this.smallBatchMath = java;
        this.nativeLibrary = nativeGateMath;
        OpenBlasKernels.ensure();
    }

    /** True when a kernel for {@code config} and {@code dataType} made now runs the gate math in NativeGates. */
    public static boolean nativeGateMath(LstmConfig config, DataType dataType) {
        return dataType == DataType.FLOAT && config.projSize() == 0 && NativeLibrary.nativeGateMath();
    }

    /**
     * Sizes the buffers for {@code input}, the caller's tensor in {@code layout} (any strides), and copies it into the
     * layer-0 input buffer, read through its strides: natively with {@link NativeGates}, else by ND4J's assign into a
     * view of the buffer in the caller's layout (made once per shape and layout). The one copy of the input.
     */
    public void prepare(INDArray input, SequenceLayout layout) {
        int steps = layout.steps(input);
        int batch = layout.batch(input);
        if (layers == null || batch > capacityBatch || steps > capacitySteps) {
            allocate(Math.max(batch, capacityBatch), Math.max(steps, capacitySteps));
        }
        this.batch = batch;
        this.steps = steps;
        this.columns = Math.toIntExact((long) steps * batch);
        this.oneThreadCall = runsOnOneThread();
        boolean smallSteps = 2.0 * 4 * hidden * batch * hOut < SMALL_GEMM_FLOPS;
        // a small step loop runs in a one-thread section of its own (beginStepLoop)
        this.shape = new GateMath.Shape(batch, steps, columns, Math.toIntExact((long) (steps + 1) * batch),
                Math.toIntExact((long) hidden * batch), Math.toIntExact((long) hOut * batch), smallSteps,
                oneThreadCall || smallSteps && OpenBlasKernels.threadPolicyActive());
        stored = false;
        copyIn(input, layout, config.inputSize(), layers.get(0).x, inputView);
    }

    /**
     * Copies {@code source}, {@code features} x L x N of the current call in {@code layout}, into {@code dst} as
     * {@code [features, L * N]}, read through the source's strides: natively with {@link NativeGates}, else by ND4J's
     * assign into {@code view}'s view of {@code dst} in the source's layout.
     */
    private void copyIn(INDArray source, SequenceLayout layout, int features, OffHeap dst, CallerView view) {
        if ((long) steps * batch == 1 && OffHeap.isContiguous(source)) {
            // one step of a batch of one: the caller's values are the buffer's column as they lie (no ND4J op)
            if (oneColumn == null) {
                oneColumn = num.alloc(Math.max(config.inputSize(), dirs * hOut));
            }
            num.get(source, oneColumn, features);
            num.put(oneColumn, 0, dst, 0, features);
            return;
        }
        if (nativeLibrary && NativeGates.copy(source, features, steps, batch, layout.featureMajorStrides(source),
                dst)) {
            return;
        }
        view.of(dst, features, layout).assign(source);
    }

    /**
     * A feature-major buffer {@code [F, L * N]} of the current call as a view in a caller's layout, kept while the
     * buffer, L, N and the layout stay the same (an ND4J view costs a shape info each time it is made).
     */
    private final class CallerView {
        private INDArray view;
        private OffHeap buffer;
        private int steps;
        private int batch;
        private SequenceLayout layout;

        INDArray of(OffHeap buffer, int features, SequenceLayout layout) {
            if (view == null || this.buffer != buffer || this.steps != LstmKernel.this.steps
                    || this.batch != LstmKernel.this.batch || !this.layout.equals(layout)) {
                view = layout.fromFeatureMajor(buffer.view(features, LstmKernel.this.steps, LstmKernel.this.batch));
                this.buffer = buffer;
                this.steps = LstmKernel.this.steps;
                this.batch = LstmKernel.this.batch;
                this.layout = layout;
            }
            return view;
        }
    }

    /** True when the last forward ran in training mode and its activations are kept for {@link #backward}. */
    public boolean hasStoredForward() {
        return stored;
    }

    /**
     * Runs the LSTM over the input in {@link #prepare}'s buffer.
     *
     * @param weights  per layer and direction (index layer * D + direction)
     * @param h0       (numLayers * D, N, H_out) or null for zeros (only its elements in c order are read, so a
     *                 batch of one may come without the N axis)
     * @param c0       (numLayers * D, N, H) or null for zeros (likewise)
     * @param lengths  N valid lengths in 1..L, or null for all L
     * @param training keeps what backward needs and applies dropout
     * @param output   contiguous c-order memory whose first elements receive the top layer's output as
     *                 {@code [D * H_out, L, N]} (it may be longer)
     */
    public void forward(List<Weights> weights, INDArray h0, INDArray c0, int[] lengths, boolean training, INDArray output) {
        forward(weights, null, h0, c0, lengths, training, output);
    }

    /**
     * As {@link #forward(List, INDArray, INDArray, int[], boolean, INDArray)}, with the products of a small batch from
     * {@code products} ({@link #columnProducts} of these same weights) where it has them; null runs every GEMM.
     */
    public void forward(List<Weights> weights, ColumnProducts<?> products, INDArray h0, INDArray c0, int[] lengths,
                        boolean training, INDArray output) {
        @SuppressWarnings("unchecked") // made by columnProducts with this kernel's Precision
        ColumnProducts<A> typed = columnProductsPay() ? (ColumnProducts<A>) products : null;
        columnProducts = typed;
        smallBatchSteps = typed != null && smallBatchMath != gateMath;
        try (OpenBlasKernels.Section section = beginCall(false)) {
            forwardLayers(weights, h0, c0, lengths, training, output);
        } finally {
            concurrentCall = false;
            columnProducts = null;
        }
    }

    /**
     * Whether the call {@link #prepare}d last runs faster with {@link ColumnProducts} than with GEMMs
     * ({@link ColumnProducts#pay}); {@link #forward(List, ColumnProducts, INDArray, INDArray, int[], boolean, INDArray)}
     * uses the products it is given only then.
     */
    public boolean columnProductsPay() {
        return ColumnProducts.pay(batch, steps, 4 * hidden, hOut, smallBatchMath != gateMath);
    }

    /**
     * The transposed weights for {@link #forward(List, ColumnProducts, INDArray, INDArray, int[], boolean, INDArray)}:
     * a copy of {@code weights}, which the caller must drop once the parameters change.
     */
    public ColumnProducts<A> columnProducts(List<Weights> weights) {
        return ColumnProducts.of(config, num, dataType, weights);
    }

    private void forwardLayers(List<Weights> weights, INDArray h0, INDArray c0, int[] lengths, boolean training,
                               INDArray output) {
        (smallBatchSteps ? smallBatchMath : gateMath).lengths(lengths, shape);
        dropped = training && config.dropout() > 0 && config.numLayers() > 1;
        if (training) {
            for (Layer l : layers) {
                for (Direction d : l.directions) {
                    math(d).allocateActivations(capacityBatch, capacitySteps);
                }
            }
        }
        if (dropped) {
            drawDropoutMasks();
        }
        A hAll = h0 == null ? null : read(h0, initialHidden);
        A cAll = c0 == null ? null : read(c0, initialCell);
        OffHeap top = new OffHeap(output);
        int numLayers = config.numLayers();
        if (wavefront()) {
            StepStreams.run(numLayers, workers(numLayers), (call, layer) ->
                    forwardStream(call, layer, layer, 0, weights, hAll, cAll, training, top));
        } else {
            for (int layer = 0; layer < numLayers; layer++) {
                int current = layer;
                StepStreams.run(dirs, workers(dirs), (call, dir) ->
                        forwardStream(call, dir, current, dir, weights, hAll, cAll, training, top));
                if (layer < numLayers - 1 && separateInput(layer + 1)) {
                    feedNextLayer(layer, 0, steps);
                }
            }
        }
        stored = training;
    }

    /** True when the layers form a unidirectional stack, which runs as a wavefront. */
    private boolean wavefront() {
        return dirs == 1 && config.numLayers() > 1;
    }

    /** The call's independent streams: the layers of a wavefront, else the directions of a layer. */
    private int streams() {
        return wavefront() ? config.numLayers() : dirs;
    }

    /**
     * Whether a whole call runs on one BLAS thread: a small call (its largest GEMM below {@value #SMALL_CALL_FLOPS}
     * FLOPs), or a call of at least as many streams as BLAS threads, whose streams then keep every thread busy with
     * one BLAS thread each (a stack's one-step call excepted: its streams cannot overlap). Where the thread policy is
     * off, OpenBLAS's count stays as configured and no call is one-thread; with one BLAS thread, every call is.
     */
    private boolean runsOnOneThread() {
        int threads = OpenBlasKernels.configuredThreadCount();
        if (threads <= 1) {
            return true;
        }
        if (!OpenBlasKernels.threadPolicyActive()) {
            return false;
        }
        return largestGemmFlops() < SMALL_CALL_FLOPS || threads <= streams() && !(wavefront() && steps == 1);
    }

    /**
     * Pool threads for a call of {@code streams} streams besides the caller: none (the streams run one after the
     * other) unless the BLAS has more than one thread under the thread policy ({@link OpenBlasKernels}) and the whole
     * call runs on one BLAS thread ({@link #runsOnOneThread}), so that each stream runs its GEMMs on one thread as
     * the sequential schedule does. A stack's call of one step has nothing to overlap (each layer needs the whole
     * step of the layer below), so its streams run one after the other: a hand-over would only add a wake-up.
     */
    private int workers(int streams) {
        if (!concurrentCall || wavefront() && steps == 1) {
            return 0;
        }
        return Math.min(streams, OpenBlasKernels.configuredThreadCount()) - 1;
    }

    /**
     * One layer and direction's forward ({@code index}: its stream). In a wavefront, waits before each block of its
     * input projection for the layer below to have written those steps, and reports each step it has written.
     */
    private void forwardStream(StepStreams.Call call, int index, int layer, int dir, List<Weights> weights, A h0,
                               A c0, boolean training, OffHeap top) {
        Layer l = layers.get(layer);
        Direction d = l.directions.get(dir);
        Weights w = weights.get(layer * dirs + dir);
        int in = config.layerInputSize(layer);
        OffHeap y = layer == config.numLayers() - 1 ? top : l.y;
        int block = projectionBlock(layer);
        ColumnProducts<A> products = columnProducts;
        int weightsIndex = layer * dirs + dir;
        if (block == 0) {
            A[] inputT = products == null ? null : products.input(weightsIndex, columns);
            if (inputT != null) {
                d.projectColumns(inputT, in, l.x, 0, columns);
            } else {
                projectInput(w, in, l.x, 0, columns, d.buffers.gates(), oneThreadCall);
            }
        }
        math(d).initialState(dir == 0 ? 0 : steps, h0, c0, layer * dirs + dir, shape);
        math(d).beginForward(w, products == null ? null : products.recurrent(weightsIndex, batch), shape);
        boolean waits = wavefront() && layer > 0;
        boolean feeds = waits && separateInput(layer);
        boolean helps = wavefront() && layer < config.numLayers() - 1
                && (call.concurrent() || takeOverOnOneThread);
        try (OpenBlasKernels.Section loop = beginStepLoop()) {
            for (int s = 0; s < steps; s++) {
                int t = dir == 0 ? s : steps - 1 - s;
                if (block > 0 && (dir != 0 || t % block == 0)) {
                    int length = dir == 0 ? Math.min(block, steps - t) : 1;
                    if (waits && !call.claim(index, t / block)) {
                        // the stream below projected this block (projectAhead)
                        call.awaitHelped(index, t / block + 1);
                    } else {
                        if (waits) {
                            call.await(index - 1, t + length);
                            if (feeds) {
                                feedNextLayer(layer - 1, t, length);
                            }
                        }
                        A[] inputT = products == null ? null : products.input(weightsIndex, length * batch);
                        if (inputT != null) {
                            d.projectColumns(inputT, in, l.x, t * batch, length * batch);
                        } else {
                            projectSteps(layer, dir, weights, t, length);
                        }
                    }
                }
                math(d).forwardStep(t, dir == 0 ? t : t + 1, dir == 0 ? t + 1 : t, w, training, y, (long) dir * hOut,
                        shape);
                call.advance(index, s + 1);
            }
            if (helps) {
                projectAhead(call, index + 1, layer + 1, weights);
            }
        }
        math(d).endForward(dir == 0 ? steps : 0, shape);
    }

    /**
     * In a wavefront running its streams at once, after this stream's last step: projects the blocks of layer
     * {@code upper}'s input (stream {@code upperIndex}) that the upper stream has not reached yet. An upper layer's
     * step costs more than the first layer's when it projects more input features per step (H_out against H_in:
     * at LSTM(28, 64, 2 layers) about 78 against 60 us at batch 64), so the upper stream ends several blocks behind
     * and this one would otherwise idle. Tested against the sequential schedule, bit for bit: the same calls as the
     * upper stream's own (on one BLAS thread either way), only on this thread; not in a call that uses the Java column
     * products (a batch of up to {@link ColumnProducts#MAX_COLUMNS}), whose scratch and checks belong to the upper
     * stream. Only at the end: projecting ahead during the step loop as well moved more
     * data between the cores than it saved (slower in docs/performance.md's measurement).
     */
    private void projectAhead(StepStreams.Call call, int upperIndex, int upper, List<Weights> weights) {
        if (columnProducts != null) {
            return;
        }
        int block = projectionBlock(upper);
        while (true) {
            int k = call.claimed(upperIndex);
            int t = k * block;
            if (t >= steps || call.concurrent() && call.progress(upperIndex) >= t) {
                return;
            }
            int length = Math.min(block, steps - t);
            if (call.claim(upperIndex, k)) {
                if (separateInput(upper)) {
                    feedNextLayer(upper - 1, t, length);
                }
                projectSteps(upper, 0, weights, t, length);
                call.helped(upperIndex, k + 1);
                PROJECTED_AHEAD.incrementAndGet();
            }
        }
    }

    /**
     * The input projection of layer {@code layer}, direction {@code dir}, at steps {@code t .. t + length} inside a step
     * loop: one call for the stream that owns it and for the stream below that takes it over ({@link #projectAhead}),
     * so that both give the same bits.
     */
    private void projectSteps(int layer, int dir, List<Weights> weights, int t, int length) {
        Layer l = layers.get(layer);
        projectInput(weights.get(layer * dirs + dir), config.layerInputSize(layer), l.x, (long) t * batch,
                length * batch, l.directions.get(dir).buffers.gates(), oneThreadCall || shape.smallSteps());
    }

    /**
     * W_ih x over {@code count} columns of {@code x} from column {@code first} into the same columns of {@code gates}
     * (without adding to them): with {@link NativeGates#recurrent} where this kernel uses the native library, the
     * product runs on one BLAS thread ({@code oneThread}: the bits that {@link NativeGates#inputProductFits}
     * checked) and the shape fits; else OpenBLAS's GEMM. The same bits either way.
     */
    private void projectInput(Weights w, int in, OffHeap x, long first, int count, OffHeap gates, boolean oneThread) {
        if (nativeLibrary && oneThread && NativeGates.inputProductFits(4 * hidden, count, in)) {
            NativeGates.recurrent(w.wIh(), x, first, columns, gates, first, columns, 4 * hidden, count, in, false);
        } else {
            num.gemm(false, false, 4 * hidden, count, in, w.wIh(), 0, in, x, first, columns, false, gates, first,
                    columns);
        }
    }

    /**
     * Steps per GEMM of a layer's input projection inside its step loop, or 0 for one GEMM over all steps before the
     * loop: 1 where {@link #projectsPerStep}, {@link #blockSteps} for a wavefront's upper layers.
     */
    private int projectionBlock(int layer) {
        if (projectsPerStep(config.layerInputSize(layer))) {
            return 1;
        }
        return wavefront() && layer > 0 ? blockSteps() : 0;
    }

    /**
     * Steps per block of a wavefront layer's input projection and input gradient: about {@value #BLOCK_COLUMNS}
     * columns. Both schedules use these blocks (OpenBLAS's float32 GEMM over a block of columns does not always give
     * the bits of the same columns in a larger GEMM), so that they give the same results.
     */
    private int blockSteps() {
        return Math.min(steps, Math.max(1, (BLOCK_COLUMNS + batch - 1) / batch));
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
        finalStates.clear();
        for (Layer l : layers) {
            for (Direction d : l.directions) {
                finalStates.add(math(d).finalHidden());
            }
        }
        num.putStates(finalStates, hOut, batch, finalStaging, dst, index);
    }

    /** Writes c_n, (numLayers * D, N, H) c-order, at {@code dst[index ..]}. */
    public void writeFinalCell(OffHeap dst, long index) {
        finalStates.clear();
        for (Layer l : layers) {
            for (int dir = 0; dir < dirs; dir++) {
                finalStates.add(math(l.directions.get(dir)).finalCell(dir == 0 ? steps : 0));
            }
        }
        num.putStates(finalStates, hidden, batch, finalStaging, dst, index);
    }

    /**
     * Gradients of {@code sum(output * outputGradient)} after a training {@link #forward}, written into
     * {@code gradients} (overwritten, never accumulated).
     *
     * @param outputGradient the output's shape in {@code layout} (any strides), copied once into a buffer of this
     *                       kernel through its strides
     * @param inputGradient  {@code [H_in, L, N]} c-order to receive dL/d(input), or null when not needed
     */
    public void backward(List<Weights> weights, List<Weights> gradients, INDArray outputGradient,
                         SequenceLayout layout, INDArray inputGradient) {
        if (!stored) {
            throw new IllegalStateException("internal: backward without a stored training forward");
        }
        if (outputGradient == null) {
            throw new IllegalStateException("internal: backward without an output gradient");
        }
        if (this.outputGradient == null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                this.outputGradient = buffer((long) dirs * hOut, (long) capacitySteps * capacityBatch);
            }
        }
        copyIn(outputGradient, layout, dirs * hOut, this.outputGradient, outputGradientView);
        try (OpenBlasKernels.Section section = beginCall(true)) {
            backwardLayers(weights, gradients, this.outputGradient, inputGradient);
        } finally {
            concurrentCall = false;
        }
    }

    private void backwardLayers(List<Weights> weights, List<Weights> gradients, OffHeap top,
                                INDArray inputGradient) {
        for (int layer = 0; layer < config.numLayers(); layer++) {
            for (int dir = 0; dir < dirs; dir++) {
                Weights w = weights.get(layer * dirs + dir);
                transpose(w.wHh(), 4 * hidden, hOut, layers.get(layer).directions.get(dir).buffers.recurrentT());
            }
        }
        prepareNativeInputGradients(weights);
        OffHeap input = inputGradient == null ? null : new OffHeap(inputGradient);
        int numLayers = config.numLayers();
        if (wavefront()) {
            StepStreams.run(numLayers, workers(numLayers), (call, index) -> {
                int layer = numLayers - 1 - index;
                OffHeap dy = index == 0 ? top : layers.get(layer + 1).dx;
                backwardStream(call, index, layer, 0, weights, gradients, dy, layer > 0 ? layers.get(layer).dx : input);
            });
            return;
        }
        OffHeap dy = top;
        for (int layer = numLayers - 1; layer >= 0; layer--) {
            int current = layer;
            OffHeap layerDy = dy;
            OffHeap dx = layer > 0 ? layers.get(layer).dx : input;
            StepStreams.run(dirs, workers(dirs), (call, dir) ->
                    backwardStream(call, dir, current, dir, weights, gradients, layerDy, dx));
            if (layer > 0) {
                dy = dx;
                if (dropped) {
                    applyDropout(dx, layer - 1, 0, steps);
                }
            }
        }
    }

    /**
     * One layer and direction's backward ({@code index}: its stream). In a wavefront, publishes after each step that
     * its dL/dgates there are written, and before each block of steps computes its dL/dh there, the input gradient of
     * the layer above ({@link #inputGradientSteps}), unless the stream above took that block over after its own last
     * step ({@link #takeOverInputGradients}); in a bidirectional layer, the second direction adds its input gradient
     * once the first has written its own.
     */
    private void backwardStream(StepStreams.Call call, int index, int layer, int dir, List<Weights> weights,
                                List<Weights> gradients, OffHeap dy, OffHeap dx) {
        Layer l = layers.get(layer);
        Direction d = l.directions.get(dir);
        GateMath.Buffers b = d.buffers;
        Weights w = weights.get(layer * dirs + dir);
        Weights grad = gradients.get(layer * dirs + dir);
        int in = config.layerInputSize(layer);
        boolean wavefront = wavefront();
        boolean hasLayerAbove = wavefront && index > 0;
        boolean helps = wavefront && layer > 0 && (call.concurrent() || takeOverOnOneThread);
        int block = blockSteps();
        int blocks = (steps + block - 1) / block;
        math(d).beginBackward(shape);
        try (OpenBlasKernels.Section loop = beginStepLoop()) {
            for (int s = steps - 1; s >= 0; s--) {
                int t = dir == 0 ? s : steps - 1 - s;
                if (hasLayerAbove && (t == steps - 1 || (t + 1) % block == 0)) {
                    // the first step of block t / block, in this loop's order (from the last step down)
                    int k = blocks - 1 - t / block;
                    if (!call.claim(index, k)) {
                        call.awaitHelped(index, k + 1);
                    } else {
                        int first = t / block * block;
                        call.await(index - 1, steps - first);
                        inputGradientSteps(layer + 1, weights, first, t + 1 - first);
                    }
                }
                math(d).backwardStep(s, t, dir == 0 ? t : t + 1, dir == 0 ? t + 1 : t, w, b.recurrentT(), dy,
                        (long) dir * hOut, shape);
                if (wavefront) {
                    call.advance(index, steps - t);
                }
            }
            if (helps) {
                takeOverInputGradients(call, index + 1, layer, weights);
            }
        }
        // a bidirectional layer's first direction writes its input gradient before its weight gradients and the
        // second adds its own after them: with the directions at once neither waits for the other, and dx is summed
        // in the same order (the first direction's, then the second's added) as in the sequential schedule
        boolean wholeInputGradient = !(wavefront && layer > 0) && dx != null;
        if (wholeInputGradient && dir == 0) {
            num.gemm(true, false, in, columns, 4 * hidden, w.wIh(), 0, in, b.gates(), 0, columns, false, dx, 0,
                    columns);
            call.advance(index, INPUT_GRADIENT_WRITTEN);
        }
        num.gemm(false, true, 4 * hidden, in, columns, b.gates(), 0, columns, l.x, 0, columns, false, grad.wIh(), 0, in);
        num.gemm(false, true, 4 * hidden, hOut, columns, b.gates(), 0, columns, b.states(), dir == 0 ? 0 : batch,
                shape.stateLd(), false, grad.wHh(), 0, hOut);
        if (config.bias()) {
            num.gemv(4 * hidden, columns, b.gates(), columns, ones, grad.bIh());
            A bias = num.alloc(4 * hidden);
            num.get(grad.bIh(), 0, bias, 0, 4 * hidden);
            num.put(bias, 0, grad.bHh(), 0, 4 * hidden);
        }
        if (config.projSize() > 0) {
            num.gemm(false, true, hOut, hidden, columns, b.projectedGrad(), 0, columns, b.projected(), 0, columns,
                    false, grad.wHr(), 0, hidden);
        }
        if (wholeInputGradient && dir > 0) {
            call.await(index - 1, INPUT_GRADIENT_WRITTEN);
            num.gemm(true, false, in, columns, 4 * hidden, w.wIh(), 0, in, b.gates(), 0, columns, true, dx, 0,
                    columns);
        }
        call.advance(index, INPUT_GRADIENT_WRITTEN);
    }

    /**
     * In a wavefront's backward running its streams at once, after this stream's last step (layer {@code layer}):
     * computes the blocks of its input gradient, the dL/dh of stream {@code belowIndex}, that the stream below has not
     * reached yet. Each block costs a GEMM as large as a step's recurrent one, so a stream that also wrote its input
     * gradient block by block ended about that much later than the stream below, which waited for every block (at
     * LSTM(28, 64, 2 layers), batch 64: 1.2 of its 4.6 ms; docs/performance.md). The blocks are claimed in the order
     * the stream below needs them, as in {@link #projectAhead}, with the same calls.
     */
    private void takeOverInputGradients(StepStreams.Call call, int belowIndex, int layer, List<Weights> weights) {
        int block = blockSteps();
        int blocks = (steps + block - 1) / block;
        while (true) {
            int k = call.claimed(belowIndex);
            if (k >= blocks) {
                return;
            }
            int first = (blocks - 1 - k) * block;
            int end = Math.min(first + block, steps);
            // the stream below starts needing this block once it has done the steps after it
            if (call.concurrent() && call.progress(belowIndex) >= steps - end) {
                return;
            }
            if (call.claim(belowIndex, k)) {
                inputGradientSteps(layer, weights, first, end - first);
                call.helped(belowIndex, k + 1);
                GRADIENTS_TAKEN_OVER.incrementAndGet();
            }
        }
    }

    /**
     * Layer {@code layer}'s input gradient W_ih^T dL/dgates at steps {@code first .. first + length} (a wavefront's
     * block: a layer's dL/dh below it), with the dropout of the layer below applied: one call for the stream below,
     * which needs it, and for this layer's stream, which takes it over ({@link #takeOverInputGradients}), so that both
     * give the same bits. In blocks in both schedules, as {@link #blockSteps} says for the input projection.
     */
    private void inputGradientSteps(int layer, List<Weights> weights, int first, int length) {
        Layer l = layers.get(layer);
        int in = config.layerInputSize(layer);
        OffHeap gates = l.directions.get(0).buffers.gates();
        long at = (long) first * batch;
        if (nativeInputGradients && NativeGates.inputProductFits(in, length * batch, 4 * hidden)) {
            // W_ih^T dgates as a plain product of the transposed copy: OpenBLAS's transposed GEMM packs the same
            // elements into the same panels as the plain one on W_ih^T, so both give these bits
            NativeGates.recurrent(l.inputT, gates, at, columns, l.dx, at, columns, in, length * batch, 4 * hidden,
                    false);
        } else {
            num.gemm(true, false, in, length * batch, 4 * hidden, weights.get(layer * dirs).wIh(), 0, in, gates, at,
                    columns, false, l.dx, at, columns);
        }
        if (dropped) {
            applyDropout(l.dx, layer - 1, first, length);
        }
    }

    /**
     * Begins a whole forward or backward: the BLAS section it runs in, on one BLAS thread where
     * {@link #runsOnOneThread} says so (a small call, whose largest GEMM, an input projection, a weight gradient or the
     * input gradient, is 2 * 4H * L*N * max(input size, H_out) FLOPs, below {@value #SMALL_CALL_FLOPS}; or a call with
     * a stream for each BLAS thread), else on the configured count (a section of
     * {@link OpenBlasKernels#configuredThreads()}, so that its products are split the same way whatever other threads
     * run). A one-thread call runs its streams at once where the thread policy gives more than one thread
     * ({@link #workers}); the caller resets {@link #concurrentCall} when the call ends. {@code backward} says which
     * products it may take natively (see {@link #checkNativeProducts}).
     */
    private OpenBlasKernels.Section beginCall(boolean backward) {
        if (nativeLibrary && callsRun > 0) {
            checkNativeProducts(backward);
        }
        callsRun++;
        if (oneThreadCall) {
            concurrentCall = OpenBlasKernels.threadPolicyActive()
                    && !"sequential".equals(System.getProperty(SCHEDULE_PROPERTY));
            return OpenBlasKernels.singleThreaded();
        }
        return OpenBlasKernels.configuredThreads();
    }

    /**
     * Has {@link NativeGates#checkRecurrent} and, for the step shapes it does not take, {@link PackedGemm#check}
     * check (once per shape and process) the native products this call may take: a forward's recurrent product and
     * input projections in the blocks this call uses, or a backward's recurrent product and, in a wavefront, its upper
     * layers' input gradients in the same blocks. On the calling thread before the call's BLAS section and streams,
     * since the checks run OpenBLAS in a section of their own; during the call {@link NativeGates#recurrentFits} and
     * {@link PackedGemm#fits} only read the answers. A kernel's first call runs no checks (see {@link #callsRun}).
     */
    private void checkNativeProducts(boolean backward) {
        int m = backward ? hOut : 4 * hidden;
        int k = backward ? 4 * hidden : hOut;
        NativeGates.checkRecurrent(m, batch, k);
        if (!NativeGates.recurrentFits(m, batch, k)) {
            PackedGemm.check(m, batch, k);
        }
        if (backward) {
            if (wavefront()) {
                int block = blockSteps();
                for (int layer = 1; layer < config.numLayers(); layer++) {
                    // an upper layer's input gradient, in blocks of steps (see inputGradientSteps)
                    int in = config.layerInputSize(layer);
                    NativeGates.checkRecurrent(in, Math.min(block, steps) * batch, 4 * hidden);
                    NativeGates.checkRecurrent(in, steps % block * batch, 4 * hidden);
                }
            }
            return;
        }
        for (int layer = 0; layer < config.numLayers(); layer++) {
            int in = config.layerInputSize(layer);
            int block = projectionBlock(layer);
            if (block == 0) {
                NativeGates.checkRecurrent(4 * hidden, columns, in);
                continue;
            }
            NativeGates.checkRecurrent(4 * hidden, block * batch, in);
            NativeGates.checkRecurrent(4 * hidden, steps % block * batch, in);
            NativeGates.checkRecurrent(4 * hidden, batch, in); // a reverse direction projects step by step
        }
    }

    /** FLOPs of the largest GEMM of a call with the current batch size and length. */
    private double largestGemmFlops() {
        return largestGemmFlops(config, columns);
    }

    /** FLOPs of the largest GEMM of a call of {@code config} over {@code columns} = L * N columns. */
    static double largestGemmFlops(LstmConfig config, long columns) {
        double largest = 0;
        for (int layer = 0; layer < config.numLayers(); layer++) {
            largest = Math.max(largest, 2.0 * 4 * config.hiddenSize() * columns
                    * Math.max(config.layerInputSize(layer), config.outputSize()));
        }
        return largest;
    }

    /**
     * Begins a loop over the steps, whose recurrent GEMMs are small: on one BLAS thread when a step's GEMM is below
     * {@value #SMALL_GEMM_FLOPS} FLOPs (see {@link OpenBlasKernels#singleThreaded()}), else as configured. Streams run
     * at once only inside the caller's one-thread section, which covers them (a pool thread enters no section).
     */
    private OpenBlasKernels.Section beginStepLoop() {
        return shape.smallSteps() && !concurrentCall ? OpenBlasKernels.singleThreaded() : OpenBlasKernels.Section.NONE;
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

    /**
     * Decides whether this backward's input-gradient blocks take the AVX2 product ({@link #inputGradientSteps}): where
     * the call runs on one BLAS thread and the product takes the block's shape. If so, writes each upper layer's W_ih^T
     * (its memory made at first use). On the calling thread before the streams start.
     */
    private void prepareNativeInputGradients(List<Weights> weights) {
        // every upper layer's input is the H_out outputs of the layer below (a wavefront is unidirectional)
        int in = hOut;
        nativeInputGradients = nativeLibrary && wavefront() && (oneThreadCall || shape.smallSteps())
                && NativeGates.inputProductFits(in, Math.min(blockSteps(), steps) * batch, 4 * hidden);
        if (!nativeInputGradients) {
            return;
        }
        for (int layer = 1; layer < config.numLayers(); layer++) {
            Layer l = layers.get(layer);
            if (l.inputT == null) {
                l.inputT = buffer(in, 4L * hidden);
            }
            transpose(weights.get(layer * dirs).wIh(), 4 * hidden, in, l.inputT);
        }
    }

    /**
     * The transpose of {@code source} (rows x cols, row-major) into {@code target}: W_hh^T [H_out, 4H], so that
     * backward's per-step product dh = W_hh^T dgates is a plain (not transposed) GEMM, which OpenBLAS runs faster, and
     * W_ih^T for {@link #prepareNativeInputGradients}.
     */
    private void transpose(OffHeap source, int rows, int cols, OffHeap target) {
        int size = rows * cols;
        if (transposeRows == null) {
            // W_hh and a wavefront's upper W_ih are both 4H x H_out
            transposeRows = num.alloc(4 * hidden * hOut);
            transposeColumns = num.alloc(4 * hidden * hOut);
        }
        num.get(source, 0, transposeRows, 0, size);
        num.transpose(transposeRows, 0, rows, cols, transposeColumns);
        num.put(transposeColumns, 0, target, 0, size);
    }

    /**
     * All elements of a state (numLayers * D, N, size), in c order, into {@code values} (sized for the capacity), which
     * it returns.
     */
    private A read(INDArray array, A values) {
        INDArray dense = OffHeap.isContiguous(array) ? array : array.dup('c');
        num.get(dense, values, Math.toIntExact(dense.length()));
        return values;
    }

    /**
     * Draws every non-last layer's dropout mask (1 / keep where kept, else 0) from ND4J's random generator, in layer
     * order, before any layer runs (no layer draws random numbers, so the masks are those of drawing each just before
     * its consumer).
     */
    private void drawDropoutMasks() {
        double keep = 1 - config.dropout();
        for (int layer = 0; layer < config.numLayers() - 1; layer++) {
            INDArray mask = layers.get(layer).dropMask.view((long) dirs * hOut, columns);
            if (keep == 0) {
                mask.assign(0);
            } else {
                Nd4j.getExecutioner().exec(new BernoulliDistribution(mask, keep));
                mask.muli(1 / keep);
            }
        }
    }

    /** True when layer k (k > 0) reads its input from a buffer of its own, not layer k-1's output (dropout). */
    private boolean separateInput(int layer) {
        return layers.get(layer).x != layers.get(layer - 1).y;
    }

    /**
     * Layer k+1's input at steps {@code t .. t + length}: layer k's output, times its dropout mask in training (see
     * {@link #separateInput}).
     */
    private void feedNextLayer(int layer, int t, int length) {
        Layer below = layers.get(layer);
        multiplyColumns(below.y, dropped ? below.dropMask : null, layers.get(layer + 1).x, t, length);
    }

    /** Multiplies {@code dx}, layer k+1's input gradient, at steps {@code t .. t + length} by layer k's dropout mask. */
    private void applyDropout(OffHeap dx, int layer, int t, int length) {
        multiplyColumns(dx, layers.get(layer).dropMask, dx, t, length);
    }

    /**
     * {@code out = a * mask} (or {@code a} where {@code mask} is null) over the columns of steps
     * {@code t .. t + length} of {@code [D * H_out, L * N]} tensors.
     */
    private void multiplyColumns(OffHeap a, OffHeap mask, OffHeap out, int t, int length) {
        int n = length * batch;
        A values = num.alloc(n);
        A factors = mask == null ? null : num.alloc(n);
        for (int j = 0; j < dirs * hOut; j++) {
            long at = (long) j * columns + (long) t * batch;
            num.get(a, at, values, 0, n);
            if (mask != null) {
                num.get(mask, at, factors, 0, n);
                num.multiplyInPlace(values, factors, n);
            }
            num.put(values, 0, out, at, n);
        }
    }

    /** (Re)allocates every buffer for up to {@code maxBatch} samples and {@code maxSteps} steps. */
    private void allocate(int maxBatch, int maxSteps) {
        outputGradient = null;
        capacityBatch = maxBatch;
        capacitySteps = maxSteps;
        long maxColumns = (long) maxSteps * maxBatch;
        int stateCapacity = Math.multiplyExact(config.numLayers() * dirs * Math.max(hidden, hOut), maxBatch);
        initialHidden = num.alloc(stateCapacity);
        initialCell = num.alloc(stateCapacity);
        finalStaging = num.alloc(stateCapacity);
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            ones = new OffHeap(Nd4j.ones(dataType, maxColumns));
            layers = new ArrayList<>();
            for (int layer = 0; layer < config.numLayers(); layer++) {
                layers.add(new Layer(layer, layer == 0 ? null : layers.get(layer - 1), maxColumns));
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
        /** W_ih^T (in x 4H) for the input-gradient blocks on the AVX2 product (made at first use), or null. */
        OffHeap inputT;

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

    /** The running call's gate math of direction {@code d} (see {@link #smallBatchMath}). */
    private GateMath.Direction<A> math(Direction d) {
        if (!smallBatchSteps) {
            return d.math;
        }
        if (d.smallBatchMath == null) {
            d.smallBatchMath = smallBatchMath.direction(d.buffers, capacityBatch, capacitySteps);
        }
        return d.smallBatchMath;
    }

    /** The buffers of one layer and direction, sized for the capacity: those every gate math uses, and its own. */
    private final class Direction {
        final GateMath.Buffers buffers;
        final GateMath.Direction<A> math;
        /** {@link #smallBatchMath}'s direction where that is not {@link #gateMath} (made at first use), else null. */
        GateMath.Direction<A> smallBatchMath;

        Direction(long maxColumns) {
            boolean proj = config.projSize() > 0;
            buffers = new GateMath.Buffers(buffer(4L * hidden, maxColumns),
                    buffer(hOut, (long) (capacitySteps + 1) * capacityBatch),
                    proj ? buffer(hidden, maxColumns) : null,
                    proj ? buffer(hOut, maxColumns) : null,
                    buffer(Math.max(hidden, hOut), capacityBatch),
                    buffer(hOut, 4L * hidden));
            math = gateMath.direction(buffers, capacityBatch, capacitySteps);
        }

        /**
         * Java scratch of {@link #projectColumns}: the input columns, their sums, and per number of columns the 4H rows
         * of results (made at first use).
         */
        private A columnsIn;
        private A[] sums;
        private final Object[] projected = new Object[ColumnProducts.MAX_COLUMNS + 1];

        /**
         * The input projection of {@code count} columns of a small batch, from column {@code first}: {@code W_ih x} into
         * the same gate columns, as the GEMM with those columns would write them ({@link ColumnProducts}).
         */
        void projectColumns(A[] inputT, int in, OffHeap x, int first, int count) {
            if (columnsIn == null) {
                columnsIn = num.alloc(Math.max(config.inputSize(), dirs * hOut) * ColumnProducts.MAX_COLUMNS);
                sums = num.allocMany(ColumnProducts.MAX_COLUMNS, 4 * hidden);
            }
            @SuppressWarnings("unchecked") // made here by num.alloc
            A rows = (A) projected[count];
            if (rows == null) {
                rows = num.alloc(4 * hidden * count);
                projected[count] = rows;
            }
            if (count == columns) { // all of the call's columns: the rows are one block
                num.get(x, 0, columnsIn, 0, in * count);
            } else {
                for (int k = 0; k < in; k++) {
                    num.get(x, (long) k * columns + first, columnsIn, k * count, count);
                }
            }
            num.columnProducts(inputT, 4 * hidden, in, columnsIn, count, sums);
            num.fill(rows, 0);
            num.addColumns(rows, sums, 0, 4 * hidden, count); // 0 + sums, as the GEMM without C writes them
            if (count == columns) {
                num.put(rows, 0, buffers.gates(), 0, 4 * hidden * count);
                return;
            }
            for (int i = 0; i < 4 * hidden; i++) {
                num.put(rows, i * count, buffers.gates(), (long) i * columns + first, count);
            }
        }
    }
}
