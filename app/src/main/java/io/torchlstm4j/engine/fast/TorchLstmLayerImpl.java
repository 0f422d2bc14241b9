package io.torchlstm4j.engine.fast;

import io.torchlstm4j.core.LstmConfig;
import io.torchlstm4j.core.LstmOutput;
import io.torchlstm4j.core.ParameterKey;
import io.torchlstm4j.core.SequenceLayout;
import io.torchlstm4j.kernel.ColumnProducts;
import io.torchlstm4j.kernel.LstmKernel;
import io.torchlstm4j.kernel.ParameterTable;
import io.torchlstm4j.platform.NativeGates;
import io.torchlstm4j.platform.NativeLibrary;
import io.torchlstm4j.platform.OffHeap;
import io.torchlstm4j.platform.OpenMpThreads;
import io.torchlstm4j.platform.Precision;
import io.torchlstm4j.platform.ReusedShape;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.recurrent.BaseRecurrentLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * The runtime of {@link TorchLstmLayer}: the DL4J layer contract (activate, backprop, rnnTimeStep, masks) on top of
 * {@link LstmKernel}, plus the direct calls the fast engine uses (explicit initial state and lengths).
 *
 * <p>Concurrency: the direct calls ({@link #forward}, {@link #gradients}) are safe to make from many threads at once:
 * each call works in a kernel of its own (taken from a pool that keeps one per call that ever ran at the same time),
 * and reads the parameters under a read lock that {@link FastLstm#loadParameters} takes for writing, so a load waits
 * for the calls in flight and the calls after it see all of the new parameters. The DL4J contract (used by
 * {@code output}, {@code fit}, {@code rnnTimeStep} of the network) keeps state in the layer, as every DL4J layer does:
 * one thread at a time; a contract call that overlaps another one or a direct call throws
 * {@link IllegalStateException} naming both, instead of computing with another call's buffers. (The network's
 * parameter update in {@code fit} runs outside the layer's methods and is not detected: do not fit a network while
 * calls on it run.)
 */
public final class TorchLstmLayerImpl extends BaseRecurrentLayer<TorchLstmLayer> {

    private volatile LstmConfig lstmConfig;
    private volatile ParameterTable table;
    /** The DL4J contract's kernel (it keeps a training forward for backpropGradient). */
    private LstmKernel<?> networkKernel;
    private INDArray storedInput;
    private volatile WrappedWeights wrappedParams;
    private volatile Boolean nativeGateMath;
    private WrappedWeights wrappedGradients;
    private ReusedShape.Views dl4jViews;
    /** Idle working memory of the direct calls, most recently used first. */
    private final ConcurrentLinkedDeque<Scratch> idle = new ConcurrentLinkedDeque<>();
    /** Parameter reads (every call) against parameter writes (loading parameters). */
    private final ReadWriteLock parameters = new ReentrantReadWriteLock();
    /** Direct calls in flight, and the DL4J contract call in flight (thread and operation), for the overlap checks. */
    private final AtomicInteger directCalls = new AtomicInteger();
    private final AtomicReference<Thread> networkThread = new AtomicReference<>();
    private volatile String networkOperation;
    /**
     * Whether only the fast engine that made this layer can reach its parameters (its network not handed out), so
     * that copies derived from them stay valid until {@link #writeParameters}: then a direct forward of a small batch
     * takes its products from {@link ColumnProducts}. Parameters written in place by DL4J's updater or by a user
     * holding the network would not tell the layer, so a handed-out network turns this off for good.
     */
    private volatile boolean parametersPrivate;
    /** The current parameters transposed for a small batch (built at the first such call), or null. */
    private volatile ColumnProducts<?> columnProducts;

    public TorchLstmLayerImpl(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("TorchLstmLayer runs in FLOAT or DOUBLE networks, got " + dataType);
        }
    }

    @Override
    public Type type() {
        return Type.RECURRENT;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        OpenMpThreads.forCallingThread();
        boolean began = beginNetworkCall("activate");
        try {
            return forwardDl4j(null, null, training, workspaceMgr);
        } finally {
            endNetworkCall(began);
        }
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        OpenMpThreads.forCallingThread();
        boolean began = beginNetworkCall("backpropGradient");
        try {
            return backprop(epsilon, workspaceMgr);
        } finally {
            endNetworkCall(began);
        }
    }

    private Pair<Gradient, INDArray> backprop(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (!kernel().hasStoredForward() || storedInput != input) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                runOnInput(null, null, true, Nd4j.createUninitialized(dataType, outputShape()));
            }
        }
        long[] expected = dl4jShape(config().numDirections() * config().outputSize());
        if (!Arrays.equals(epsilon.shape(), expected)) {
            throw new IllegalArgumentException("epsilon has shape " + Arrays.toString(epsilon.shape()) + " but "
                    + Arrays.toString(expected) + " (the layer's output shape) was expected " + layerId());
        }
        INDArray dx = layerConf().inputGradient() ? workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD,
                dataType, new long[] {config().inputSize(), seqLength(), batch()}, 'c') : null;
        if (wrappedGradients == null || !wrappedGradients.wraps(gradientsFlattened)) {
            wrappedGradients = wrap(gradientsFlattened);
        }
        kernel().backward(parameterWeights(), wrappedGradients.weights(), epsilon, dl4jLayout(), dx);
        Gradient gradient = new DefaultGradient(gradientsFlattened);
        for (String key : layerConf().initializer().paramKeys(layerConf())) {
            gradient.gradientForVariable().put(key, gradientViews.get(key));
        }
        return new Pair<>(gradient, dx == null ? null : backpropDropOutIfPresent(fromDl4j(dx)));
    }

    @Override
    public Pair<Gradient, INDArray> tbpttBackpropGradient(INDArray epsilon, int tbpttBackLength,
                                                          LayerWorkspaceMgr workspaceMgr) {
        if (tbpttBackLength < seqLength()) {
            throw new UnsupportedOperationException("TorchLstmLayer backpropagates through the whole segment: set "
                    + "tBPTTBackwardLength equal to tBPTTForwardLength (got backward " + tbpttBackLength
                    + " for a segment of " + seqLength() + " steps) " + layerId());
        }
        return backpropGradient(epsilon, workspaceMgr);
    }

    @Override
    public INDArray rnnTimeStep(INDArray input, LayerWorkspaceMgr workspaceMgr) {
        boolean began = beginNetworkCall("rnnTimeStep");
        try {
            setInput(input, workspaceMgr);
            return stream(stateMap, true, false, workspaceMgr);
        } finally {
            endNetworkCall(began);
        }
    }

    @Override
    public INDArray rnnActivateUsingStoredState(INDArray input, boolean training, boolean storeLastForTBPTT,
                                               LayerWorkspaceMgr workspaceMgr) {
        boolean began = beginNetworkCall("rnnActivateUsingStoredState");
        try {
            setInput(input, workspaceMgr);
            return stream(tBpttStateMap, storeLastForTBPTT, training, workspaceMgr);
        } finally {
            endNetworkCall(began);
        }
    }

    /**
     * Begins a DL4J contract call: one at a time, never beside a direct call (see the class comment), with the
     * parameters read-locked until {@link #endNetworkCall}. Returns false for a call made inside this thread's running
     * one (DL4J's {@code activate} inside {@code backpropGradient}), which already holds both. A begin and an end
     * rather than a method that takes the call as a lambda: a lambda's first use spins a class at run time, which a
     * program pays at start-up (docs/performance.md, "Start-up").
     */
    private boolean beginNetworkCall(String operation) {
        Thread current = Thread.currentThread();
        if (networkThread.get() == current) {
            return false;
        }
        if (!networkThread.compareAndSet(null, current)) {
            throw overlap(operation, networkOperation + " (DL4J) on thread '" + nameOf(networkThread.get()) + "'");
        }
        try {
            networkOperation = operation;
            if (directCalls.get() > 0) {
                throw overlap(operation, "forward or gradients (TorchLstm) on another thread");
            }
            parameters.readLock().lock();
            return true;
        } catch (RuntimeException | Error e) {
            networkThread.set(null);
            throw e;
        }
    }

    /** Ends a call that {@link #beginNetworkCall} began ({@code began}: what it returned). */
    private void endNetworkCall(boolean began) {
        if (began) {
            parameters.readLock().unlock();
            networkThread.set(null);
        }
    }

    /** Runs a direct call: with working memory of its own, never beside a DL4J contract call. */
    private <T> T asDirectCall(String operation, Function<Scratch, T> call) {
        // the call's own ND4J ops (layouts, results) must not leave an OpenMP thread spinning beside its streams
        OpenMpThreads.forCallingThread();
        directCalls.incrementAndGet();
        try {
            Thread other = networkThread.get();
            if (other != null) {
                throw overlap(operation, networkOperation + " (DL4J) on thread '" + nameOf(other) + "'");
            }
            Scratch scratch = idle.pollFirst();
            if (scratch == null) {
                scratch = new Scratch(newKernel());
            }
            T result;
            parameters.readLock().lock();
            try {
                result = call.apply(scratch);
            } finally {
                parameters.readLock().unlock();
            }
            // back to the pool only after a call that completed: a failed one may have left its buffers half-grown
            idle.offerFirst(scratch);
            return result;
        } finally {
            directCalls.decrementAndGet();
        }
    }

    private IllegalStateException overlap(String operation, String other) {
        return new IllegalStateException("TorchLstmLayer " + layerId() + ": " + operation + " overlaps " + other
                + "; a DL4J network is used by one thread at a time (serve it with one copy per thread, e.g. DL4J's "
                + "ParallelInference), while TorchLstm's forward and gradients may run on many threads at once");
    }

    private static String nameOf(Thread thread) {
        return thread == null ? "(ended)" : thread.getName();
    }

    /**
     * Replaces the parameters with {@code values}, which hold exactly the keys of {@link #parameterViews} with their
     * shapes (the caller validated them; a broken promise is an {@link IllegalStateException} before anything
     * changes), cast to the layer's data type, once no call reads them (calls made meanwhile wait for it).
     */
    void writeParameters(Map<ParameterKey, INDArray> values) {
        LstmConfig config = config();
        Map<ParameterKey, INDArray> views = parameterViews();
        if (!values.keySet().equals(views.keySet())) {
            Set<ParameterKey> missing = new LinkedHashSet<>(views.keySet());
            missing.removeAll(values.keySet());
            Set<ParameterKey> unexpected = new LinkedHashSet<>(values.keySet());
            unexpected.removeAll(views.keySet());
            throw new IllegalStateException("internal: parameters for " + config + " lack " + missing
                    + " and have unexpected " + unexpected);
        }
        Map<ParameterKey, INDArray> cast = new LinkedHashMap<>();
        for (Map.Entry<ParameterKey, INDArray> entry : views.entrySet()) {
            ParameterKey key = entry.getKey();
            INDArray view = entry.getValue();
            INDArray value = values.get(key);
            if (!Arrays.equals(value.shape(), view.shape())) {
                throw new IllegalStateException("internal: " + key + " of " + config + " has shape "
                        + Arrays.toString(value.shape()) + ", " + Arrays.toString(view.shape()) + " was expected");
            }
            cast.put(key, value.castTo(view.dataType()));
        }
        parameters.writeLock().lock();
        try {
            columnProducts = null;
            for (Map.Entry<ParameterKey, INDArray> view : views.entrySet()) {
                view.getValue().assign(cast.get(view.getKey()));
            }
        } finally {
            parameters.writeLock().unlock();
        }
    }

    /**
     * Whether only the caller (the fast engine) can reach the parameters: true once it has built its network, false
     * for good once it hands the network out (see {@link #parametersPrivate}).
     */
    void parametersPrivate(boolean value) {
        parametersPrivate = value;
        columnProducts = null;
    }

    /** True when the layer holds the current parameters transposed for a small batch, and uses some of them. */
    boolean usesColumnProducts() {
        ColumnProducts<?> products = columnProducts;
        return products != null && products.any();
    }

    /**
     * The current parameters transposed for a small batch (under the parameters' read lock, which a write waits
     * for; two calls that build at once build the same copy).
     */
    private ColumnProducts<?> columnProducts(LstmKernel<?> kernel) {
        ColumnProducts<?> products = columnProducts;
        if (products == null) {
            products = kernel.columnProducts(parameterWeights());
            columnProducts = products;
        }
        return products;
    }

    /** Copies of the parameters, in {@link ParameterKey#all} order, made while no {@link #writeParameters} runs. */
    Map<ParameterKey, INDArray> parameterCopies() {
        parameters.readLock().lock();
        try {
            Map<ParameterKey, INDArray> copies = new LinkedHashMap<>();
            for (Map.Entry<ParameterKey, INDArray> view : parameterViews().entrySet()) {
                copies.put(view.getKey(), view.getValue().dup('c'));
            }
            return copies;
        } finally {
            parameters.readLock().unlock();
        }
    }

    /**
     * PyTorch's forward with explicit state and lengths (the fast engine's entry point) on the caller's input in
     * {@code layout}; the output is a view in that layout of a fresh array. Unbatched input (L, H_in), with h0 and c0
     * without the N axis, runs as a batch of one and returns output (L, D * H_out) and h_n, c_n without the N axis.
     * Call outside any workspace.
     */
    LstmOutput forward(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0, int[] lengths,
                       boolean training) {
        return forward(input, layout, h0, c0, lengths, training, null);
    }

    /**
     * As {@link #forward(INDArray, SequenceLayout, INDArray, INDArray, int[], boolean)}, with the memory of the
     * results from {@code allocate} (a vector of the given length, written whole here; null: fresh memory from
     * {@link NativeLibrary#uninitializedBuffer}): tests pass memory filled with NaN.
     */
    LstmOutput forward(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0, int[] lengths,
                       boolean training, LongFunction<INDArray> allocate) {
        return asDirectCall("forward", scratch -> forward(scratch, input, layout, h0, c0, lengths, training,
                allocate));
    }

    private LstmOutput forward(Scratch scratch, INDArray input, SequenceLayout layout, INDArray h0, INDArray c0,
                               int[] lengths, boolean training, LongFunction<INDArray> allocate) {
        Results results = scratch.results(config(), input, layout);
        // output, h_n and c_n share one fresh allocation (the output [F, L, N] first, where the kernel writes it):
        // fresh native memory costs far more per allocation than the copies here (see NativeLibrary.uninitialized)
        INDArray all = allocate != null ? allocate.apply(results.length)
                : results.vector(NativeLibrary.uninitializedBuffer(dataType, results.length));
        ColumnProducts<?> products = parametersPrivate && scratch.kernel.columnProductsPay()
                ? columnProducts(scratch.kernel) : null;
        // an unbatched state (numLayers * D, H) holds its elements in the order of (numLayers * D, 1, H), all the
        // kernel reads: no view needed
        scratch.kernel.forward(parameterWeights(), products, h0, c0, lengths, training, all);
        OffHeap memory = new OffHeap(all);
        scratch.kernel.writeFinalHidden(memory, results.hOffset);
        scratch.kernel.writeFinalCell(memory, results.cOffset);
        return results.on(all);
    }

    /**
     * The working memory of one direct call at a time: a kernel, the result views that go with its shapes, and the
     * memory that receives the output of {@link #gradients}' forward (which the caller never sees).
     */
    private static final class Scratch {
        /**
         * How many kinds of call (L, N, layout) keep their result views: a server that mixes batch sizes, or batched
         * and unbatched calls, on one instance would otherwise rebuild them (ND4J shape infos) at every change of
         * kind, which costs a one-step call about as much as its arithmetic.
         */
        private static final int RESULT_KINDS = 8;

        final LstmKernel<?> kernel;
        /** The result views of the last {@link #RESULT_KINDS} kinds of call, oldest first. */
        private final List<Results> results = new ArrayList<>(RESULT_KINDS);
        INDArray discarded;

        Scratch(LstmKernel<?> kernel) {
            this.kernel = kernel;
        }

        /** Prepares the kernel for {@code input} in {@code layout} and returns where the results of (L, N) go. */
        Results results(LstmConfig config, INDArray input, SequenceLayout layout) {
            int steps = layout.steps(input);
            int n = layout.batch(input);
            kernel.prepare(input, layout);
            for (Results kind : results) {
                if (kind.steps == steps && kind.batch == n && kind.layout.equals(layout)) {
                    return kind;
                }
            }
            if (results.size() == RESULT_KINDS) {
                results.remove(0);
            }
            Results made = new Results(config, steps, n, layout);
            results.add(made);
            return made;
        }

        /** Memory for {@code length} elements that this scratch keeps (grown when too small). */
        INDArray discarded(DataType dataType, long length) {
            if (discarded == null || discarded.length() < length) {
                try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                    discarded = Nd4j.createUninitializedDetached(dataType, length);
                }
            }
            return discarded;
        }
    }

    /** A c-order view of {@code shape} on {@code buffer}'s memory, starting at element {@code offset}. */
    private static INDArray cOrderView(INDArray buffer, long offset, long[] shape) {
        return Nd4j.create(buffer.data(), shape, Nd4j.getStrides(shape, 'c'), offset, 'c');
    }

    /**
     * Where {@link #forward} puts output, h_n and c_n in its one buffer for (L, N), and their views: the first call
     * makes them the usual way, later calls reuse their shape infos ({@link ReusedShape}).
     */
    private static final class Results {
        final int steps;
        final int batch;
        final SequenceLayout layout;
        final long[] outputShape;
        final long[] hShape;
        final long[] cShape;
        final long hOffset;
        final long cOffset;
        final long length;
        private ReusedShape output;
        private ReusedShape hN;
        private ReusedShape cN;
        /** The shape info of the [length] vector on fresh memory (made at the first call). */
        private ReusedShape vector;

        /** Unbatched: batch is 1 and the views leave the N axis out (the memory is the same). */
        Results(LstmConfig c, int steps, int batch, SequenceLayout layout) {
            this.steps = steps;
            this.batch = batch;
            this.layout = layout;
            boolean unbatched = layout.unbatched();
            outputShape = new long[] {(long) c.numDirections() * c.outputSize(), steps, batch};
            hShape = unbatched ? new long[] {c.stateLayers(), c.outputSize()}
                    : new long[] {c.stateLayers(), batch, c.outputSize()};
            cShape = unbatched ? new long[] {c.stateLayers(), c.hiddenSize()}
                    : new long[] {c.stateLayers(), batch, c.hiddenSize()};
            hOffset = ArrayUtil.prodLong(outputShape);
            cOffset = hOffset + ArrayUtil.prodLong(hShape);
            length = cOffset + ArrayUtil.prodLong(cShape);
        }

        /** A [length] vector on {@code buffer}, with the shape info of the first one made. */
        INDArray vector(DataBuffer buffer) {
            if (vector != null) {
                return vector.wrap(buffer);
            }
            INDArray made = Nd4j.create(buffer, new long[] {length}, new long[] {1}, 0, 'c');
            vector = ReusedShape.of(made);
            return made;
        }

        /** (output in the caller's layout, h_n, c_n) on {@code all}'s memory. */
        LstmOutput on(INDArray all) {
            if (output != null && hN != null && cN != null) {
                return new LstmOutput(output.on(all.data()), hN.on(all.data()), cN.on(all.data()));
            }
            INDArray out = layout.fromFeatureMajor(cOrderView(all, 0, outputShape));
            LstmOutput made = new LstmOutput(out, cOrderView(all, hOffset, hShape), cOrderView(all, cOffset, cShape));
            output = ReusedShape.of(made.output());
            hN = ReusedShape.of(made.hN());
            cN = ReusedShape.of(made.cN());
            return made;
        }
    }

    /**
     * Gradients of {@code sum(output * outputGradient)} after a training forward with explicit state and lengths, on
     * input and outputGradient in {@code layout}; fresh arrays, in {@link ParameterKey#all} order. Call outside any
     * workspace.
     */
    Map<ParameterKey, INDArray> gradients(INDArray input, SequenceLayout layout, INDArray h0, INDArray c0,
                                          int[] lengths, INDArray outputGradient) {
        return asDirectCall("gradients", scratch -> {
            forward(scratch, input, layout, h0, c0, lengths, true, length -> scratch.discarded(dataType, length));
            INDArray flat = Nd4j.create(dataType, TorchLstmLayer.numParams(config()));
            scratch.kernel.backward(parameterWeights(), wrap(flat).weights(), outputGradient, layout, null);
            return TorchLstmParamInitializer.parameterViews(config(), flat);
        });
    }

    /**
     * The parameters by key, in {@link ParameterKey#all} order, as views: writes change the network's parameters (make
     * them inside {@link #writeParameters}).
     */
    Map<ParameterKey, INDArray> parameterViews() {
        return TorchLstmParamInitializer.parameterViews(config(), params());
    }

    LstmConfig config() {
        LstmConfig c = lstmConfig;
        if (c == null) {
            c = layerConf().lstmConfig();
            lstmConfig = c;
        }
        return c;
    }

    /** Where each layer's and direction's parameters sit in the flat parameters (made once, immutable). */
    private ParameterTable parameterTable() {
        ParameterTable t = table;
        if (t == null) {
            t = ParameterTable.of(config());
            table = t;
        }
        return t;
    }

    private INDArray stream(Map<String, INDArray> state, boolean store, boolean training,
                            LayerWorkspaceMgr workspaceMgr) {
        LstmConfig c = config();
        if (c.bidirectional()) {
            throw new UnsupportedOperationException("a bidirectional LSTM cannot be run step by step: its backward "
                    + "direction needs the whole sequence (use output() on complete sequences) " + layerId());
        }
        INDArray h0 = state.get(TorchLstmLayer.STATE_H);
        INDArray c0 = state.get(TorchLstmLayer.STATE_C);
        if (h0 != null || c0 != null) {
            checkState(TorchLstmLayer.STATE_H, h0, c.outputSize());
            checkState(TorchLstmLayer.STATE_C, c0, c.hiddenSize());
        }
        INDArray out = forwardDl4j(h0, c0, training, workspaceMgr);
        if (store) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                state.put(TorchLstmLayer.STATE_H, kernel().finalHidden());
                state.put(TorchLstmLayer.STATE_C, kernel().finalCell());
            }
        }
        return out;
    }

    private void checkState(String key, INDArray s, int size) {
        long[] expected = {config().stateLayers(), batch(), size};
        if (s == null || !Arrays.equals(s.shape(), expected) || s.dataType() != dataType) {
            throw new IllegalArgumentException("stored state '" + key + "' is "
                    + (s == null ? "missing" : s.dataType() + " " + Arrays.toString(s.shape())) + " but " + dataType
                    + " (numLayers * D, N, " + (key.equals(TorchLstmLayer.STATE_H) ? "H_out" : "H") + ") = "
                    + Arrays.toString(expected) + " was expected: both '" + TorchLstmLayer.STATE_H + "' and '"
                    + TorchLstmLayer.STATE_C + "' with this batch size, or rnnClearPreviousState() " + layerId());
        }
    }

    private INDArray forwardDl4j(INDArray h0, INDArray c0, boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        applyDropOutIfNecessary(training, workspaceMgr);
        if (layerConf().getWeightNoise() != null) {
            throw new UnsupportedOperationException("TorchLstmLayer does not support weight noise (DropConnect) "
                    + layerId());
        }
        checkInput();
        INDArray y = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, outputShape(), 'c');
        runOnInput(h0, c0, training, y);
        return fromDl4j(y);
    }

    private void runOnInput(INDArray h0, INDArray c0, boolean training, INDArray y) {
        int[] lengths = lengthsFromMask();
        kernel().prepare(input, dl4jLayout());
        kernel().forward(parameterWeights(), h0, c0, lengths, training, y);
        storedInput = training ? input : null;
    }


    /** The DL4J-format view ([N, F, L] or [N, L, F]) of a kernel-layout array [F, L, N]. */
    private INDArray fromDl4j(INDArray featureMajor) {
        if (dl4jViews == null) {
            dl4jViews = new ReusedShape.Views(dl4jLayout()::fromFeatureMajor);
        }
        return dl4jViews.of(featureMajor);
    }

    private void checkInput() {
        long features = config().inputSize();
        if (input.rank() != 3 || input.size(featureAxis()) != features) {
            throw new IllegalArgumentException("input has shape " + Arrays.toString(input.shape()) + " but "
                    + (nwc() ? "NWC [N, L, H_in]" : "NCW [N, H_in, L]") + " with H_in = " + features
                    + " was expected " + layerId());
        }
        if (input.dataType() != dataType) {
            throw new IllegalArgumentException("input has dtype " + input.dataType() + " but the network is "
                    + dataType + " " + layerId());
        }
    }

    /** Lengths from the feature mask (null when there is none or every step is valid). */
    private int[] lengthsFromMask() {
        if (maskArray == null) {
            return null;
        }
        int n = batch();
        int steps = seqLength();
        if (maskArray.rank() != 2 || maskArray.size(0) != n || maskArray.size(1) != steps) {
            throw new IllegalArgumentException("feature mask has shape " + Arrays.toString(maskArray.shape())
                    + " but [N, L] = [" + n + ", " + steps + "] was expected " + layerId());
        }
        double[][] mask = maskArray.castTo(DataType.DOUBLE).toDoubleMatrix();
        int[] lengths = new int[n];
        boolean full = true;
        for (int s = 0; s < n; s++) {
            int length = 0;
            while (length < steps && mask[s][length] != 0) {
                length++;
            }
            for (int t = 0; t < steps; t++) {
                if (mask[s][t] != (t < length ? 1 : 0)) {
                    throw new IllegalArgumentException("feature mask row " + s + " is " + Arrays.toString(mask[s])
                            + ": each row must be ones then zeros (a per-sample length, PyTorch packed-sequence "
                            + "semantics) " + layerId());
                }
            }
            if (length == 0) {
                throw new IllegalArgumentException("feature mask row " + s + " is all zeros: every sample needs at "
                        + "least one valid step " + layerId());
            }
            lengths[s] = length;
            full &= length == steps;
        }
        return full ? null : lengths;
    }

    /**
     * The kernel's wrappers of the parameters, reused while {@code paramsFlattened} is the same array on the same
     * buffer: wrapping costs about a microsecond per tensor, a tenth of a small LSTM's forward. The wrappers are
     * immutable, so calls on several threads may share them.
     */
    private List<LstmKernel.Weights> parameterWeights() {
        INDArray flat = paramsFlattened;
        WrappedWeights wrapped = wrappedParams;
        if (wrapped == null || !wrapped.wraps(flat)) {
            wrapped = wrap(flat);
            wrappedParams = wrapped;
        }
        return wrapped.weights();
    }

    /**
     * The kernel's wrappers of {@code flat} (the parameters or their gradients, laid out by TorchLstmParamInitializer):
     * the blocks of the {@link ParameterTable}, by offset, without PyTorch's names.
     */
    private WrappedWeights wrap(INDArray flat) {
        INDArray vector = flat.reshape(flat.length());
        ParameterTable layout = parameterTable();
        long biases = layout.weightCount();
        List<LstmKernel.Weights> result = new ArrayList<>();
        for (ParameterTable.Slot slot : layout.slots()) {
            result.add(new LstmKernel.Weights(offHeap(vector, 0, slot.wIh()), offHeap(vector, 0, slot.wHh()),
                    offHeap(vector, biases, slot.bIh()), offHeap(vector, biases, slot.bHh()),
                    offHeap(vector, 0, slot.wHr())));
        }
        return new WrappedWeights(flat, flat.data(), List.copyOf(result));
    }

    /** A block of the parameter vector (its group starting at {@code base}) as kernel memory, or null for none. */
    private static OffHeap offHeap(INDArray vector, long base, ParameterTable.Block block) {
        if (block == null) {
            return null;
        }
        long start = base + block.offset();
        return new OffHeap(vector.get(NDArrayIndex.interval(start, start + block.size()))
                .reshape('c', block.rows(), block.columns()));
    }

    /** Wrappers {@link #wrap} made, with the array and buffer they wrap. */
    private record WrappedWeights(INDArray array, DataBuffer buffer, List<LstmKernel.Weights> weights) {
        boolean wraps(INDArray flat) {
            return array == flat && buffer == flat.data();
        }
    }

    /**
     * True when this layer's kernels run the gate math in {@link NativeGates}: decided when first asked or when the
     * first kernel is made (the platform initialises then, see {@link NativePlatform}), then fixed.
     */
    boolean nativeGateMath() {
        Boolean decided = nativeGateMath;
        if (decided == null) {
            decided = LstmKernel.nativeGateMath(config(), dataType);
            nativeGateMath = decided;
        }
        return decided;
    }

    /** The DL4J contract's kernel. */
    private LstmKernel<?> kernel() {
        if (networkKernel == null) {
            networkKernel = newKernel();
        }
        return networkKernel;
    }

    private LstmKernel<?> newKernel() {
        return new LstmKernel<>(config(), Precision.of(dataType), dataType, nativeGateMath());
    }

    private long[] outputShape() {
        return new long[] {(long) config().numDirections() * config().outputSize(), seqLength(), batch()};
    }

    private long[] dl4jShape(long features) {
        return nwc() ? new long[] {batch(), seqLength(), features} : new long[] {batch(), features, seqLength()};
    }

    /** The layer's DL4J format as a sequence layout: NWC is [N, L, F], NCW [N, F, L]. */
    private SequenceLayout dl4jLayout() {
        return nwc() ? SequenceLayout.BATCH_FIRST : SequenceLayout.NCW;
    }

    private boolean nwc() {
        return layerConf().getRnnDataFormat() == RNNFormat.NWC;
    }

    private int featureAxis() {
        return nwc() ? 2 : 1;
    }

    private int batch() {
        return Math.toIntExact(input.size(0));
    }

    private int seqLength() {
        return Math.toIntExact(input.size(nwc() ? 1 : 2));
    }
}
