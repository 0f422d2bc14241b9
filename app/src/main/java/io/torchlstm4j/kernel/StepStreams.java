package io.torchlstm4j.kernel;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs the independent streams of one kernel call (the directions of a bidirectional layer, the layers of a
 * unidirectional stack as a wavefront) at once, each on one thread, and lets a stream wait for another's progress.
 *
 * <p>The calling thread runs the first stream itself and offers the others to a pool of worker threads; after its own
 * stream it runs, in order, every stream that no worker has claimed yet (a claim is a compare-and-set), so a call
 * never waits for a pool thread to become free, and any number of calls may run at once. A stream waits only for
 * streams of lower index, which are running or will be run by the caller, so no call deadlocks. A thread that waits
 * (for progress, for a task) spins for {@value #SPIN_NANOS} ns with {@link Thread#onSpinWait}, then parks. Workers
 * are daemon threads named {@code torchlstm4j-stream-k}, created when a call first needs them; a call's streams run
 * under the caller's BLAS thread-count section (the caller holds it until every stream has ended), so a worker never
 * enters a section itself.
 *
 * <p>Safe for concurrent use.
 */
final class StepStreams {

    /**
     * How long a waiting thread spins before it parks: a few microseconds, enough to catch a stream that is about to
     * publish, too short to take a core from other work for long.
     */
    static final long SPIN_NANOS = 5_000;

    private static final LinkedBlockingQueue<Task> QUEUE = new LinkedBlockingQueue<>();
    private static final AtomicInteger WORKERS = new AtomicInteger();

    private StepStreams() {
    }

    /** The body of stream {@code index} of a call; it reports progress and waits through {@code call}. */
    @FunctionalInterface
    interface Body {
        void run(Call call, int index);
    }

    /**
     * Runs streams {@code 0 .. count - 1}: one after the other on this thread when {@code workers} is 0, else at once
     * with up to {@code workers} pool threads besides this one. Returns when every stream has ended; rethrows the
     * first failure.
     */
    static void run(int count, int workers, Body body) {
        boolean concurrent = workers > 0 && count > 1;
        Call call = new Call(count, concurrent);
        if (!concurrent) {
            for (int i = 0; i < count; i++) {
                body.run(call, i);
            }
            return;
        }
        Task[] tasks = new Task[count];
        for (int i = 0; i < count; i++) {
            tasks[i] = new Task(call, i, body);
        }
        startWorkers(Math.min(workers, count - 1));
        for (int i = 1; i < count; i++) {
            QUEUE.offer(tasks[i]);
        }
        for (Task task : tasks) {
            if (task.claimed.compareAndSet(false, true)) {
                task.run();
            }
        }
        for (Task task : tasks) {
            task.done.await(1, null);
        }
        Throwable failure = call.failure;
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }

    private static void startWorkers(int wanted) {
        int running;
        while ((running = WORKERS.get()) < wanted) {
            if (WORKERS.compareAndSet(running, running + 1)) {
                Thread worker = new Thread(StepStreams::work, "torchlstm4j-stream-" + (running + 1));
                worker.setDaemon(true);
                worker.start();
            }
        }
    }

    private static void work() {
        while (true) {
            Task task = QUEUE.poll();
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (task == null && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                task = QUEUE.poll();
            }
            try {
                if (task == null) {
                    task = QUEUE.take();
                }
            } catch (InterruptedException e) {
                continue;
            }
            if (task.claimed.compareAndSet(false, true)) {
                task.run();
            }
        }
    }

    /** One stream of a call, run by whoever claims it first. */
    private static final class Task {
        final Call call;
        final int index;
        final Body body;
        final AtomicBoolean claimed = new AtomicBoolean();
        final Progress done = new Progress();

        Task(Call call, int index, Body body) {
            this.call = call;
            this.index = index;
            this.body = body;
        }

        void run() {
            try {
                body.run(call, index);
            } catch (Throwable e) {
                call.fail(e);
            } finally {
                done.set(1);
            }
        }
    }

    /**
     * What the streams of one call share: each stream's progress, the first failure, and per stream the blocks of work
     * that stream {@code index - 1} may take over (claimed in order by either, each claim a compare-and-set; stream
     * {@code index - 1} works through its claims in order and publishes how far it got).
     */
    static final class Call {
        private final Progress[] progress;
        private final AtomicInteger[] claims;
        private final Progress[] helped;
        private final boolean concurrent;
        private volatile Throwable failure;

        Call(int count, boolean concurrent) {
            this.concurrent = concurrent;
            progress = new Progress[count];
            claims = new AtomicInteger[count];
            helped = new Progress[count];
            for (int i = 0; i < count; i++) {
                progress[i] = new Progress();
                claims[i] = new AtomicInteger();
                helped[i] = new Progress();
            }
        }

        /** Whether the streams run at once (else one after the other on the calling thread). */
        boolean concurrent() {
            return concurrent;
        }

        /** Publishes that stream {@code index} has reached {@code value} (its own measure: steps or blocks done). */
        void advance(int index, int value) {
            progress[index].set(value);
        }

        /** Waits until stream {@code index} has reached {@code value}; throws when another stream failed. */
        void await(int index, int value) {
            progress[index].await(value, this);
        }

        /** What stream {@code index} has published so far (no wait). */
        int progress(int index) {
            return progress[index].value;
        }

        /** How many of stream {@code index}'s blocks have been claimed: the next one to claim. */
        int claimed(int index) {
            return claims[index].get();
        }

        /** Claims block {@code block} of stream {@code index}, the next unclaimed one; false when another did first. */
        boolean claim(int index, int block) {
            return claims[index].compareAndSet(block, block + 1);
        }

        /** Publishes that stream {@code index - 1} has done its claims of stream {@code index}'s blocks before end. */
        void helped(int index, int end) {
            helped[index].set(end);
        }

        /** Waits until stream {@code index - 1} has done its claims of stream {@code index}'s blocks before end. */
        void awaitHelped(int index, int end) {
            helped[index].await(end, this);
        }

        private void fail(Throwable e) {
            synchronized (this) {
                if (failure == null) {
                    failure = e;
                }
            }
            for (Progress p : progress) {
                p.wake();
            }
            for (Progress p : helped) {
                p.wake();
            }
        }
    }

    /** A value that only grows, with waiters that spin briefly and then park. */
    private static final class Progress {
        private volatile int value;
        private volatile int sleepers;

        void set(int v) {
            value = v;
            if (sleepers > 0) {
                wake();
            }
        }

        synchronized void wake() {
            notifyAll();
        }

        void await(int target, Call call) {
            if (value >= target) {
                return;
            }
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (value < target && System.nanoTime() < deadline) {
                check(call);
                Thread.onSpinWait();
            }
            boolean interrupted = false;
            synchronized (this) {
                sleepers++;
                try {
                    while (value < target) {
                        check(call);
                        try {
                            // woken by set() or fail(); the timeout only bounds a wait on a missed wake-up
                            wait(100);
                        } catch (InterruptedException e) {
                            interrupted = true;
                        }
                    }
                } finally {
                    sleepers--;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        private static void check(Call call) {
            if (call != null && call.failure != null) {
                throw new Abandoned();
            }
        }
    }

    /** Ends a stream whose call has failed in another stream (the caller rethrows that failure). */
    private static final class Abandoned extends RuntimeException {
        Abandoned() {
            super("another stream of this call failed", null, false, false);
        }
    }
}
