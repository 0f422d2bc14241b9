package io.torchlstm4j.benchmarks;

import java.util.List;
import java.util.Optional;

/**
 * One benchmarked workload and the implementations ({@link Column}s) timed on it.
 *
 * @param id         short name (CSV, logs)
 * @param title      what a reader sees in the table
 * @param spec       shapes and kind (variant filled in per column)
 * @param iterations timed iterations per column per round (full run)
 * @param quickIterations the same for {@code --quick}
 * @param maxRounds  at most this many measured rounds include this case (the large cases take seconds per
 *                   iteration; they run in the first rounds only)
 * @param training   whether an iteration is a training step (forward + backward + Adam) rather than a forward
 * @param adapter    an adapter-overhead case: columns are our engines with and without the adapter
 */
record Case(String id, String title, Spec spec, int iterations, int quickIterations, int maxRounds,
            boolean training, boolean adapter) {

    /** Who runs a column: the worker process and the variant and kind it is asked for. */
    record Column(String label, String worker, String kind, String variant) {
    }

    static final String TORCH = "pytorch";
    static final String DJL = "djl";
    static final List<String> ENGINES = List.of("FAST", "REFERENCE");
    /** The worker processes: each engine of this project in its own JVM, then PyTorch and DJL. */
    static final List<String> WORKERS = List.of(ours("FAST"), ours("REFERENCE"), TORCH, DJL);
    static final String ONLINE_BATCH1 = "online_batch1";
    static final String ONLINE_UNBATCHED = "online_unbatched";
    private static final int ALL_ROUNDS = Integer.MAX_VALUE;
    private static final int LARGE_ROUNDS = 3;

    /**
     * The worker process of one of this project's engines: each engine runs in a JVM of its own, so that the
     * OpenMP team DL4J's ops leave spinning in one engine's process never competes with the other engine.
     */
    static String ours(String engine) {
        return "ours-" + engine;
    }

    /** The MNIST tutorial classifier: LSTM(28, 64, 2 layers, batch_first), last step, Linear(64, 10). */
    static Spec mnist(String kind) {
        return new Spec(kind, "-", 28, 64, 2, false, true, false, 28, 64, 10, 0.01);
    }

    static Spec large(String kind) {
        return new Spec(kind, "-", 256, 512, 2, true, false, false, 100, 64, 10, 0.01);
    }

    static Spec tutorial(String kind, boolean withState) {
        return new Spec(kind, "-", 10, 20, 2, true, false, withState, 5, 3, 10, 0.01);
    }

    /**
     * On-line inference: LSTM(32, 128, 2 layers), one step per call with (h, c) carried from call to call, batch 1
     * (kind lstm_step) or unbatched (lstm_step_unbatched).
     */
    static Spec online(String kind) {
        return online(kind, 1);
    }

    /** {@link #online(String)} with {@code batch} streams per call (a server batching a few streams together). */
    static Spec online(String kind, int batch) {
        return new Spec(kind, "-", 32, 128, 2, false, false, true, 1, batch, 10, 0.01);
    }

    static List<Case> all() {
        return List.of(
                new Case("mnist_train", "MNIST classifier training step (batch 64)",
                        mnist("classifier_train"), 10, 3, ALL_ROUNDS, true, false),
                new Case("mnist_forward", "MNIST classifier forward (batch 64)",
                        mnist("classifier_forward"), 20, 5, ALL_ROUNDS, false, false),
                new Case("tutorial_forward", "tutorial BiLSTM(10, 20, 2 layers) forward (5, 3, 10) with (h0, c0)",
                        tutorial("lstm_forward", true), 50, 10, ALL_ROUNDS, false, false),
                new Case("large_forward", "large BiLSTM(256, 512, 2 layers) forward (100, 64, 256)",
                        large("lstm_forward"), 1, 1, LARGE_ROUNDS, false, false),
                new Case("large_train", "large BiLSTM classifier training step (100, 64, 256)",
                        large("classifier_train"), 1, 1, LARGE_ROUNDS, true, false),
                new Case(ONLINE_BATCH1, "on-line LSTM(32, 128, 2 layers), one step per call, state carried, "
                        + "batch 1 (1, 1, 32)", online("lstm_step"), 2000, 1000, ALL_ROUNDS, false, false),
                new Case(ONLINE_UNBATCHED, "on-line LSTM(32, 128, 2 layers), one step per call, state carried, "
                        + "unbatched (1, 32)", online("lstm_step_unbatched"), 2000, 1000, ALL_ROUNDS, false, false),
                new Case("online_batch4", "on-line LSTM(32, 128, 2 layers), one step per call, state carried, "
                        + "batch 4 (1, 4, 32)", online("lstm_step", 4), 2000, 1000, ALL_ROUNDS, false, false),
                new Case("adapter_mnist", "MNIST LSTM forward (64, 28, 28) batch_first, zero state",
                        mnist("lstm_forward"), 20, 5, ALL_ROUNDS, false, true),
                new Case("adapter_tutorial", "tutorial BiLSTM forward (5, 3, 10), zero state",
                        tutorial("lstm_forward", false), 50, 10, ALL_ROUNDS, false, true));
    }

    /** The case of {@code id} among {@code cases}, if it was selected. */
    static Optional<Case> find(List<Case> cases, String id) {
        return cases.stream().filter(c -> c.id().equals(id)).findFirst();
    }

    /** An on-line case: one step per call with the state carried; the report gives p99 and its own goals. */
    boolean online() {
        return spec.kind().startsWith("lstm_step");
    }

    /** The columns timed on this case. */
    List<Column> columns() {
        if (adapter) {
            return List.of(
                    new Column("FAST adapter", ours("FAST"), "lstm_forward", "FAST"),
                    new Column("FAST raw", ours("FAST"), "lstm_forward_raw", "FAST"),
                    new Column("REFERENCE adapter", ours("REFERENCE"), "lstm_forward", "REFERENCE"),
                    new Column("REFERENCE raw", ours("REFERENCE"), "lstm_forward_raw", "REFERENCE"));
        }
        return List.of(
                new Column("FAST", ours("FAST"), spec.kind(), "FAST"),
                new Column("REFERENCE", ours("REFERENCE"), spec.kind(), "REFERENCE"),
                new Column("PyTorch", TORCH, spec.kind(), "pytorch"),
                new Column("DJL", DJL, spec.kind(), "djl"));
    }

    /** An adapter case's column of the engine through the adapter ({@code TorchLstm.forward}). */
    Column adapterColumn(String engine) {
        return columns().get(2 * ENGINES.indexOf(engine));
    }

    /** An adapter case's column of the same engine's DL4J network called directly. */
    Column rawColumn(String engine) {
        return columns().get(2 * ENGINES.indexOf(engine) + 1);
    }

    /**
     * FLOPs of the LSTM's matrix products in one iteration: forward = sum over layers and directions of
     * 2 * L * N * 4H * (H_in_k + H); a training step counts 3x (forward, the input gradient and the weight
     * gradient). The classifier head and the element-wise gate math are not counted.
     */
    double lstmFlops() {
        double forward = 0;
        for (int layer = 0; layer < spec.numLayers(); layer++) {
            int in = layer == 0 ? spec.inputSize() : spec.directions() * spec.hiddenSize();
            forward += spec.directions() * 2.0 * spec.seqLen() * spec.batch() * 4 * spec.hiddenSize()
                    * (in + spec.hiddenSize());
        }
        return training ? 3 * forward : forward;
    }

    int iterations(boolean quick) {
        return quick ? quickIterations : iterations;
    }
}
