package io.torchlstm4j.platform;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Everything the fast engine changes outside itself, owned in one place (as ONNX Runtime's {@code OrtEnvironment}
 * owns what is global to it), with one switch per effect:
 * <table>
 * <caption>The fast engine's process-wide effects</caption>
 * <tr><th>effect</th><th>what it does</th><th>turned off by</th></tr>
 * <tr><td>{@link Effect#NATIVE_LIBRARY}</td><td>loads {@code libtorchlstm4j} (AVX-512 gate math, recurrent product,
 * input copy) with {@code System.load}, after a self-check against the Java loops</td>
 * <td>{@code -Dtorchlstm4j.native=off}</td></tr>
 * <tr><td>{@link Effect#RESULT_ALLOCATOR}</td><td>results of 64 KiB and more in memory of that library, pages faulted
 * in at once (without the library: JavaCPP's malloc), counted by JavaCPP ({@code Pointer.totalBytes}), so that
 * JavaCPP's limit bounds them</td>
 * <td>{@code -Dtorchlstm4j.native.allocator=off}</td></tr>
 * <tr><td>{@link Effect#OPENBLAS_KERNELS}</td><td>re-initialises the OpenBLAS copy the engine calls
 * ({@code libopenblas_nolapack}) with the best kernels for this CPU, swapping glibc's {@code environ} for the
 * duration (see {@link OpenBlasKernels})</td><td>{@code -Dtorchlstm4j.openblas.kernels=keep}</td></tr>
 * <tr><td>{@link Effect#BLAS_THREADS}</td><td>runs small calls and step loops on one OpenBLAS thread by setting that
 * copy's process-wide thread count for their duration, restored afterwards</td>
 * <td>{@code -Dtorchlstm4j.blas.threads=keep}</td></tr>
 * <tr><td>{@link Effect#OPENMP_THREADS}</td><td>where OpenMP's idle threads spin ({@code OMP_WAIT_POLICY} not
 * {@code PASSIVE}, {@code GOMP_SPINCOUNT} not 0), ND4J's OpenMP loops run on one thread in each thread that runs a
 * fast layer's DL4J calls (a per-thread OpenMP setting; see {@link OpenMpThreads})</td>
 * <td>{@code -Dtorchlstm4j.openmp.threads=keep}</td></tr>
 * </table>
 * or by {@link #disable} before the first use. The effects run once per process, at a defined moment: at
 * {@link #initialize()}, or else when the fast engine first computes (its first forward, gradients or DL4J layer
 * call); creating a layer, an engine or a network, or reading a file, changes nothing process-wide. Each effect logs
 * one line (SLF4J, INFO) when it runs. {@link #status()} reports what is active without running anything.
 *
 * <p>Safe for concurrent use: initialisation runs once, under a lock.
 */
public final class NativePlatform {

    private static final Logger LOG = LoggerFactory.getLogger(NativePlatform.class);

    /** One process-wide effect, with the system property that turns it off and the value that does. */
    public enum Effect {
        NATIVE_LIBRARY("torchlstm4j.native", "off"),
        RESULT_ALLOCATOR("torchlstm4j.native.allocator", "off"),
        OPENBLAS_KERNELS("torchlstm4j.openblas.kernels", "keep"),
        BLAS_THREADS("torchlstm4j.blas.threads", "keep"),
        OPENMP_THREADS("torchlstm4j.openmp.threads", "keep");

        private final String property;
        private final String offValue;

        Effect(String property, String offValue) {
            this.property = property;
            this.offValue = offValue;
        }

        /** The system property that controls it ({@code auto}, the default, or {@link #offValue()}). */
        public String property() {
            return property;
        }

        /** The property's value that turns the effect off. */
        public String offValue() {
            return offValue;
        }
    }

    /**
     * What the fast engine does to the process, for logs and {@code --version} output.
     *
     * @param initialized     whether the effects have run (false: nothing has been changed yet)
     * @param nativeGateMath  float32 layers without projections run their gate math natively
     * @param nativeLibrary   what loading the native library found, or why it is not used
     * @param kernelSwitch    the OpenBLAS kernels were switched to better ones
     * @param openblasKernels the kernel check's outcome and the kernels in use
     * @param threadPolicy    small calls run on one OpenBLAS thread (the count is changed for their duration)
     * @param blasThreads     the OpenBLAS copy's configured thread count (-1 before initialisation)
     * @param ownResultMemory results of 64 KiB and more are allocated by the native library (or, without it, by
     *                        JavaCPP's malloc) and counted by JavaCPP
     * @param openMpOneThread ND4J's OpenMP loops run on one thread in the threads that run a fast layer
     */
    public record Status(boolean initialized, boolean nativeGateMath, String nativeLibrary, boolean kernelSwitch,
                         String openblasKernels, boolean threadPolicy, int blasThreads, boolean ownResultMemory,
                         boolean openMpOneThread) {
    }

    private static final Set<Effect> DISABLED = EnumSet.noneOf(Effect.class);
    /** The effects allowed when {@link #initialize()} ran (null before). */
    private static volatile Set<Effect> allowed;

    private NativePlatform() {
    }

    /**
     * Turns an effect off for this process, as its system property does.
     *
     * @throws IllegalStateException once the effects have run (the first fast computation or {@link #initialize()})
     */
    public static synchronized void disable(Effect effect) {
        if (allowed != null) {
            throw new IllegalStateException("NativePlatform: " + effect + " cannot be turned off any more: the fast "
                    + "engine's process-wide effects have run (" + status() + "); call disable before the first "
                    + "forward, gradients or network call of a FAST engine, or set -D" + effect.property() + "="
                    + effect.offValue());
        }
        DISABLED.add(effect);
    }

    /** Runs the allowed effects now, once per process (later calls only return the status). */
    public static Status initialize() {
        effects();
        return status();
    }

    /** The allowed effects, running them first if they have not run yet. */
    private static Set<Effect> effects() {
        if (allowed == null) {
            synchronized (NativePlatform.class) {
                if (allowed == null) {
                    Set<Effect> now = EnumSet.noneOf(Effect.class);
                    for (Effect effect : Effect.values()) {
                        if (!DISABLED.contains(effect) && !effect.offValue().equals(System.getProperty(
                                effect.property(), "auto").trim().toLowerCase(Locale.ROOT))) {
                            now.add(effect);
                        }
                    }
                    allowed = now;
                    String library = now.contains(Effect.NATIVE_LIBRARY) ? NativeLibrary.load()
                            : "turned off (-D" + Effect.NATIVE_LIBRARY.property() + "=off or disabled): Java gate math";
                    LOG.info("torchlstm4j native library: {}", library);
                    LOG.info("torchlstm4j result memory: {}", !ownResultMemory() ? "ND4J's"
                            : (NativeLibrary.nativeGateMath() ? "the native library's (pages faulted in at once)"
                            : "JavaCPP's malloc") + " from " + (NativeLibrary.OWN_MEMORY_BYTES >> 10)
                            + " KiB, counted by JavaCPP");
                    LOG.info("torchlstm4j OpenBLAS kernels: {}", OpenBlasKernels.status());
                    LOG.info("torchlstm4j OpenBLAS threads: {}", OpenBlasKernels.threadPolicy());
                    LOG.info("torchlstm4j OpenMP threads: {}", OpenMpThreads.describe(now.contains(Effect.OPENMP_THREADS)));
                }
            }
        }
        return allowed;
    }

    /** What is active now; runs nothing (before {@link #initialize()} every effect reads as inactive). */
    public static Status status() {
        Set<Effect> now = allowed;
        if (now == null) {
            return new Status(false, false, "not initialized yet", false, "not initialized yet", false, -1, false,
                    false);
        }
        String kernels = OpenBlasKernels.status();
        return new Status(true, NativeLibrary.nativeGateMath(), NativeLibrary.status(), kernels.startsWith("SWITCHED"),
                kernels, OpenBlasKernels.threadPolicyActive(), OpenBlasKernels.currentThreads(), ownResultMemory(),
                now.contains(Effect.OPENMP_THREADS) && OpenMpThreads.spinning());
    }

    /** Whether an effect is allowed; initialises first (every caller is about to compute). */
    static boolean allowed(Effect effect) {
        return effects().contains(effect);
    }

    private static boolean ownResultMemory() {
        return allowed.contains(Effect.RESULT_ALLOCATOR);
    }
}
