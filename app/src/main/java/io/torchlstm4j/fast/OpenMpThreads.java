package io.torchlstm4j.fast;

import org.nd4j.nativeblas.NativeOpsHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * Keeps ND4J's OpenMP loops on one thread in the threads that run the fast engine's DL4J layer, when OpenMP's idle
 * threads spin. libgomp (ND4J's OpenMP) busy-waits after every parallel region unless {@code OMP_WAIT_POLICY=PASSIVE}
 * or {@code GOMP_SPINCOUNT=0} was set before the JVM started; a DL4J training step runs dozens of small ops (the
 * other layers, the updater), so a second OpenMP thread spins through most of the step and takes the core the
 * LSTM's BLAS would use (measurements in docs/performance.md). {@link #forCallingThread()} sets OpenMP's count for
 * the calling thread only ({@code omp_set_num_threads(1)}, a per-thread setting in libgomp), once per thread;
 * ND4J's process-wide settings and other threads are untouched. System property {@value #PROPERTY}: {@code auto}
 * (default) or {@code keep} (never change it).
 *
 * <p>Safe for concurrent use: the per-thread flag is a {@link ThreadLocal}.
 */
final class OpenMpThreads {

    /** System property: {@code auto} (default) or {@code keep}. */
    static final String PROPERTY = "torchlstm4j.openmp.threads";

    private static final Logger LOG = LoggerFactory.getLogger(OpenMpThreads.class);
    private static final boolean ACTIVE = decide();
    private static final ThreadLocal<Boolean> DONE = ThreadLocal.withInitial(() -> false);

    private OpenMpThreads() {
    }

    /** On the first call in a thread (when active): ND4J's OpenMP loops started from this thread use one thread. */
    static void forCallingThread() {
        if (ACTIVE && !DONE.get()) {
            DONE.set(true);
            NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(1);
        }
    }

    /** Whether {@link #forCallingThread} changes anything in this process. */
    static boolean active() {
        return ACTIVE;
    }

    private static boolean decide() {
        String setting = System.getProperty(PROPERTY, "auto").trim().toLowerCase(Locale.ROOT);
        if (setting.equals("keep")) {
            return false;
        }
        String policy = String.valueOf(System.getenv("OMP_WAIT_POLICY")).trim();
        String spin = String.valueOf(System.getenv("GOMP_SPINCOUNT")).trim();
        if (policy.equalsIgnoreCase("passive") || spin.equals("0")) {
            return false;
        }
        LOG.info("OpenMP threads spin when idle (OMP_WAIT_POLICY is not PASSIVE): ND4J's OpenMP loops run on one "
                + "thread in the threads that run the fast LSTM layer (-D{}=keep keeps them)", PROPERTY);
        return true;
    }
}
