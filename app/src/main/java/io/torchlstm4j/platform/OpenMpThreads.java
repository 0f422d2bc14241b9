package io.torchlstm4j.platform;

import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Keeps ND4J's OpenMP loops on one thread in the threads that run the fast engine's DL4J layer, when OpenMP's idle
 * threads spin: {@link NativePlatform.Effect#OPENMP_THREADS}, off with {@code -Dtorchlstm4j.openmp.threads=keep}.
 * libgomp (ND4J's OpenMP) busy-waits after every parallel region unless {@code OMP_WAIT_POLICY=PASSIVE} or
 * {@code GOMP_SPINCOUNT=0} was set before the JVM started; a DL4J training step runs dozens of small ops (the other
 * layers, the updater), so a second OpenMP thread spins through most of the step and takes the core the LSTM's BLAS
 * would use (measurements in docs/performance.md). {@link #forCallingThread()} sets OpenMP's count for the calling
 * thread only ({@code omp_set_num_threads(1)}, a per-thread setting in libgomp), once per thread; ND4J's
 * process-wide settings and other threads are untouched.
 *
 * <p>Safe for concurrent use: the per-thread flag is a {@link ThreadLocal}.
 */
public final class OpenMpThreads {

    private static final boolean SPINNING =
            !"passive".equalsIgnoreCase(String.valueOf(System.getenv("OMP_WAIT_POLICY")).trim())
                    && !"0".equals(String.valueOf(System.getenv("GOMP_SPINCOUNT")).trim());
    /** Set (true) in a thread once {@link #forCallingThread} ran there; empty before. */
    private static final ThreadLocal<Boolean> DONE = new ThreadLocal<>();

    private OpenMpThreads() {
    }

    /** On the first call in a thread (when active): ND4J's OpenMP loops started from this thread use one thread. */
    public static void forCallingThread() {
        if (DONE.get() == null) {
            DONE.set(true);
            if (active()) {
                NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(1);
            }
        }
    }

    /** Whether {@link #forCallingThread} changes anything in this process (initialises {@link NativePlatform}). */
    public static boolean active() {
        return SPINNING && NativePlatform.allowed(NativePlatform.Effect.OPENMP_THREADS);
    }

    /** Whether OpenMP's idle threads spin in this process (set by the environment at start). */
    static boolean spinning() {
        return SPINNING;
    }

    /** The log line of the effect. */
    static String describe(boolean allowed) {
        if (!allowed) {
            return "kept (-Dtorchlstm4j.openmp.threads=keep or disabled)";
        }
        return SPINNING ? "OpenMP threads spin when idle (OMP_WAIT_POLICY is not PASSIVE): ND4J's OpenMP loops run on "
                + "one thread in the threads that run a fast LSTM layer"
                : "never changed (OpenMP threads wait passively: OMP_WAIT_POLICY=PASSIVE or GOMP_SPINCOUNT=0)";
    }
}
