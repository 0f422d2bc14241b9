package io.torchlstm4j.platform;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.FileReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.StringTokenizer;
import java.util.function.BooleanSupplier;

/**
 * Makes the OpenBLAS that the fast engine calls use the best kernels for this CPU's vector units.
 *
 * <p>OpenBLAS 0.3.19 (the version DL4J M2.1 ships) predates AMD Zen 4 and Zen 5: on a Zen 5 its run-time CPU
 * detection picks the SSE3-era "Barcelona" kernels, and machines work around that by setting
 * {@code OPENBLAS_CORETYPE=Haswell} (AVX2), which still leaves AVX-512 unused. The fast engine's float32 GEMMs then
 * run at about half their speed (figures in docs/design.md). OpenBLAS reads {@code OPENBLAS_CORETYPE} only when it is loaded, which ND4J has done before this
 * library runs, so this class re-runs OpenBLAS's own {@code gotoblas_dynamic_init} with {@code OPENBLAS_CORETYPE}
 * set to the best core the CPU supports in the C environment, then restores the environment.
 *
 * <p>The target is SkylakeX when {@code /proc/cpuinfo} lists avx512f, avx512cd, avx512bw, avx512dq and avx512vl,
 * else Haswell when it lists avx2 and fma. It switches only to a better class of kernels than the one running
 * (SSE &lt; AVX2 &lt; AVX-512), on Linux x86-64, when OpenBLAS's symbols resolve inside {@code libopenblas_nolapack}
 * (the copy that {@link openblas_nolapack#cblas_sgemm} calls), and unless the system property {@code torchlstm4j.openblas.kernels}
 * is {@code keep}. A weaker {@code OPENBLAS_CORETYPE} from the environment is overridden, and the log says so.
 * After the switch an sgemm and a dgemm are checked against a plain Java product; on any mismatch the previous
 * kernels are restored. Results stay within float rounding of the old kernels (the summation order differs).
 * DL4J's own BLAS calls (another copy of OpenBLAS) are not changed. The switch runs when {@link NativePlatform}
 * initialises, which also owns the thread-count policy here ({@link #section}).
 *
 * <p>Safe for concurrent use: the check runs once under a lock; thread-count sections coordinate across threads.
 */
public final class OpenBlasKernels {

    /** System property: {@code auto} (default) or {@code keep} (never switch kernels). */
    static final String PROPERTY = NativePlatform.Effect.OPENBLAS_KERNELS.property();

    private static final Logger LOG = LoggerFactory.getLogger(OpenBlasKernels.class);
    /** The flags the SkylakeX kernels need. */
    public static final Set<String> AVX512 = Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");
    private static final Set<String> AVX2 = Set.of("avx2", "fma");
    private static final String LIBRARY = "libopenblas_nolapack.so";
    /** OpenBLAS core tables (symbol suffixes) by vector class: 2 = AVX-512, 1 = AVX2; any other is 0. */
    private static final Map<String, Integer> CLASS_OF_CORE = Map.of("SKYLAKEX", 2, "COOPERLAKE", 2,
            "HASWELL", 1, "ZEN", 1);
    private static final List<String> KNOWN_CORES = List.of("SKYLAKEX", "COOPERLAKE", "HASWELL", "ZEN",
            "SANDYBRIDGE", "BARCELONA", "BULLDOZER", "PILEDRIVER", "STEAMROLLER", "EXCAVATOR", "NEHALEM", "CORE2",
            "PRESCOTT");

    /** What {@link #ensure()} found or did, for logs and tests. */
    public enum Outcome { SWITCHED, ALREADY_BEST, NOT_APPLICABLE, KEPT_BY_USER, FAILED }

    private static volatile Outcome outcome;
    private static volatile String detail = "";
    /** OpenBLAS's thread count when {@link #singleThreaded} first ran (-1 before), and its setter. */
    private static volatile int configured = -1;
    private static org.bytedeco.openblas.presets.openblas_nolapack.SetNumThreads setThreads;
    /** Sections of {@link #section} running, the count they run at, and those waiting per count (class lock). */
    private static int sectionsRunning;
    private static int sectionThreads;
    private static int waitingSingle;
    private static int waitingConfigured;
    /** The count of the section this thread is in (0: none). */
    private static final ThreadLocal<int[]> HELD = new ThreadLocal<>();
    /** OpenBLAS's thread count as this class last set it. */
    private static volatile int threadsNow = -1;
    /**
     * The C environment that {@link #reinitialise} installs for a moment, and its OPENBLAS_CORETYPE entry: held here
     * only so that they are never freed (see there).
     */
    private static LongPointer switchedEnvironment;
    private static BytePointer coreTypeSetting;
    /** {@link #coreTables()}'s answer once found. */
    private static volatile Map<Long, String> coreTables;
    /** The SkylakeX and Cooperlake tables' addresses (0 where not exported), for {@link #avx512KernelsInUse()}. */
    private static volatile long[] avx512Tables;
    /**
     * OpenBLAS's {@code gotoblas} variable (the address of the table it runs), made at the first
     * {@link #runningTable()}: one pointer for every later call (read only, never repositioned), since small calls
     * ask on every call.
     */
    private static volatile LongPointer gotoblas;
    /** {@link #libraryImage()}'s answer once read; guarded by the class lock. */
    private static long[] libraryImage;
    private static volatile Set<String> cpuFlags;

    private OpenBlasKernels() {
    }

    /**
     * What the check found, for logs and reports, e.g. {@code "SWITCHED: SkylakeX kernels (OpenBLAS had chosen
     * HASWELL)"}; runs the check first if the fast engine has not run yet.
     *
     * @return the outcome and the kernels in use
     */
    public static String status() {
        Outcome result = ensure();
        return result + (detail.isEmpty() ? "" : ": " + detail);
    }

    /** What {@link #decideAndSwitch} found: the outcome and the kernels in use. */
    record Decision(Outcome outcome, String detail) {
    }

    /**
     * Runs the check (and the switch) once per process, when the platform initialises ({@link NativePlatform});
     * later calls return the first outcome.
     */
    public static Outcome ensure() {
        Outcome result = outcome;
        if (result == null) {
            boolean allowed = NativePlatform.allowed(NativePlatform.Effect.OPENBLAS_KERNELS);
            synchronized (OpenBlasKernels.class) {
                result = outcome;
                if (result == null) {
                    Decision decision = decideAndSwitch(allowed, OpenBlasKernels::gemmsAgree);
                    detail = decision.detail();
                    result = decision.outcome();
                    outcome = result;
                }
            }
        }
        return result;
    }

    /**
     * The check and the switch: {@code allowed} false keeps the kernels; {@code check} says whether the kernels
     * after a switch compute correctly (false restores the previous ones). Package-private so that tests can run
     * each path; {@link #ensure()} runs it once with the platform's setting and {@link #gemmsAgree}.
     */
    static Decision decideAndSwitch(boolean allowed, BooleanSupplier check) {
        String[] note = {""};
        try {
            if (!allowed) {
                return new Decision(Outcome.KEPT_BY_USER, "");
            }
            if (!System.getProperty("os.name", "").startsWith("Linux")
                    || !System.getProperty("os.arch", "").equals("amd64")) {
                return new Decision(Outcome.NOT_APPLICABLE, note[0]);
            }
            Loader.load(openblas_nolapack.class);
            Loader.load(openblas.class);
            long table = symbol("gotoblas");
            long init = symbol("gotoblas_dynamic_init");
            long environ = symbol("environ");
            Map<Long, String> cores = coreTables();
            if (table == 0 || init == 0 || environ == 0 || !cores.containsValue("SKYLAKEX")
                    || !cores.containsValue("HASWELL")) {
                return new Decision(Outcome.NOT_APPLICABLE, note[0]);
            }
            Set<String> flags = cpuFlags();
            String target = flags.containsAll(AVX512) ? "SKYLAKEX" : flags.containsAll(AVX2) ? "HASWELL" : null;
            LongPointer tablePointer = new LongPointer(at(table));
            long chosen = tablePointer.get(0);
            String before = cores.getOrDefault(chosen, "an unnamed core");
            note[0] = before + " kernels";
            if (target == null || CLASS_OF_CORE.getOrDefault(before, 0) >= CLASS_OF_CORE.get(target)) {
                return new Decision(Outcome.ALREADY_BEST, note[0]);
            }
            // checked only before a switch (reading /proc/self/maps costs start-up time): the symbols must lie in
            // the copy of OpenBLAS whose functions this library calls, not in another copy loaded beside it
            List<Long> addresses = new ArrayList<>(cores.keySet());
            addresses.add(table);
            addresses.add(init);
            if (!insideLibrary(addresses)) {
                return new Decision(Outcome.NOT_APPLICABLE, "");
            }
            String coreType = target.equals("SKYLAKEX") ? "SkylakeX" : "Haswell";
            reinitialise(tablePointer, init, environ, coreType);
            long now = tablePointer.get(0);
            if (!target.equals(cores.get(now)) || !check.getAsBoolean()) {
                tablePointer.put(0, chosen);
                LOG.warn("OpenBLAS: switching from the {} kernels to {} failed its check; kept {}", before, coreType,
                        before);
                note[0] = before + " kernels (the switch to " + coreType + " failed its check)";
                return new Decision(Outcome.FAILED, note[0]);
            }
            String environment = System.getenv("OPENBLAS_CORETYPE");
            note[0] = coreType + " kernels (OpenBLAS " + openblasVersion() + " had chosen " + before
                    + (environment == null ? "" : ", OPENBLAS_CORETYPE=" + environment + " in the environment")
                    + "; -D" + PROPERTY + "=keep keeps them)";
            return new Decision(Outcome.SWITCHED, note[0]);
        } catch (RuntimeException | LinkageError | IOException e) {
            note[0] = e.toString();
            LOG.debug("OpenBLAS kernel check skipped: {}", e.toString());
            return new Decision(Outcome.FAILED, note[0]);
        }
    }

    private static String openblasVersion() {
        return openblas_nolapack.OPENBLAS_VERSION.trim().replace("OpenBLAS ", "");
    }

    /**
     * Begins a section in which the fast engine's OpenBLAS runs on one thread; closing it ends it. For GEMMs too small
     * to gain from a second thread (an LSTM step's recurrent product; every GEMM of a small call, see
     * {@code LstmKernel.SMALL_CALL_FLOPS}): splitting a GEMM of a few microseconds across threads costs more in
     * hand-offs than it gains. See {@link #section} for how sections of different thread counts exclude each other.
     */
    public static Section singleThreaded() {
        return section(1);
    }

    /** Begins a section in which the fast engine's OpenBLAS runs its configured thread count (see {@link #section}). */
    public static Section configuredThreads() {
        return section(configuredThreadCount());
    }

    /**
     * A section of {@link #singleThreaded()} or {@link #configuredThreads()}, ended by {@link #close()} (in a
     * try-with-resources statement, on the thread that began it). A value to close rather than a method that runs a
     * lambda: a lambda's first use spins a class at run time, which a program pays at start-up (docs/performance.md,
     * "Start-up"). Not for concurrent use: it belongs to the thread that began it.
     */
    public static final class Section implements AutoCloseable {

        /** A section that changes nothing (no thread policy, the count this thread holds already, or no section wanted). */
        public static final Section NONE = new Section(null, 0, 0);

        private final int[] held;
        private final int outer;
        private final int configured;
        private boolean closed;

        private Section(int[] held, int outer, int configured) {
            this.held = held;
            this.outer = outer;
            this.configured = configured;
        }

        /** Ends the section (once): the thread takes back the count of the section it is nested in, if any. */
        @Override
        public void close() {
            if (held == null || closed) {
                return;
            }
            closed = true;
            held[0] = outer;
            leave(configured);
            if (outer != 0) {
                enter(outer);
            }
        }
    }

    /**
     * Begins a section in which the fast engine's OpenBLAS runs {@code threads} threads. The count is process-wide and
     * OpenBLAS splits a product among its threads so that some elements are summed in another order (for a given
     * count the bits are always the same): so that a call's results never depend on what other threads do, sections
     * that need different counts never overlap (a thread waits until the running sections of the other count have
     * ended; waiting sections of the other count go first, so neither starves), while any number of sections of one
     * count run together. Sections nest: a section inside another one of this thread gives up the outer one's count
     * for its duration and takes it back afterwards. When the last section ends the count is restored to the one
     * OpenBLAS had when this first ran (from OMP_NUM_THREADS / OPENBLAS_NUM_THREADS), for BLAS calls made outside
     * sections (by other code of the process: they may run at either count meanwhile, never with wrong results).
     */
    private static Section section(int threads) {
        int configured = configuredThreadCount();
        if (configured <= 1 || setThreads == null || !NativePlatform.allowed(NativePlatform.Effect.BLAS_THREADS)) {
            return Section.NONE;
        }
        int[] held = HELD.get();
        if (held == null) {
            held = new int[1];
            HELD.set(held);
        }
        int outer = held[0];
        if (outer == threads) {
            return Section.NONE;
        }
        if (outer != 0) {
            leave(configured);
        }
        enter(threads);
        held[0] = threads;
        return new Section(held, outer, configured);
    }

    /** Waits until sections of {@code threads} may run, then counts this one in (setting the count if need be). */
    private static synchronized void enter(int threads) {
        boolean single = threads == 1;
        if (single) {
            waitingSingle++;
        } else {
            waitingConfigured++;
        }
        boolean interrupted = false;
        try {
            while (sectionsRunning > 0 && (sectionThreads != threads
                    || (single ? waitingConfigured : waitingSingle) > 0)) {
                try {
                    OpenBlasKernels.class.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (single) {
                waitingSingle--;
            } else {
                waitingConfigured--;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (sectionsRunning++ == 0 && threadsNow != threads) {
            setThreads.call(threads);
            threadsNow = threads;
        }
        sectionThreads = threads;
    }

    /** Counts a section out; the last one restores the configured count and lets the waiting sections in. */
    private static synchronized void leave(int configured) {
        if (--sectionsRunning == 0) {
            if (threadsNow != configured) {
                setThreads.call(configured);
                threadsNow = configured;
            }
            OpenBlasKernels.class.notifyAll();
        }
    }

    /**
     * OpenBLAS's own thread count ({@code openblas_get_num_threads} of the fast engine's copy), or -1 when that
     * function is not found in it. The openblas presets map only the setter; the getter, {@code int (void)}, is called
     * through a FunctionPointer of type {@code int (int)}, whose argument it ignores under the x86-64 calling
     * convention.
     */
    public static int openblasThreads() {
        try {
            Pointer function = Loader.addressof("openblas_get_num_threads");
            if (function == null || !insideLibrary(List.of(function.address()))) {
                return -1;
            }
            return new org.bytedeco.openblas.presets.openblas_nolapack.MklSetNumThreadsLocal() {
            }.put(function).call(0);
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * True when the fast engine's OpenBLAS runs its SkylakeX (or Cooperlake) kernels now, whose summation order
     * {@link NativeGates#recurrent} reproduces; read from OpenBLAS's core table on each call.
     */
    public static boolean avx512KernelsInUse() {
        long now = runningTable();
        if (now == 0) {
            return false;
        }
        long[] avx512 = avx512Tables;
        if (avx512 == null) {
            // looked up once the library is loaded (the running table was found), and kept as plain longs: a lookup
            // in coreTables() would box one Long per small call
            avx512 = new long[] {symbol("gotoblas_SKYLAKEX"), symbol("gotoblas_COOPERLAKE")};
            avx512Tables = avx512;
        }
        return now == avx512[0] || now == avx512[1];
    }

    /** The address of the function table OpenBLAS runs now, or 0 where its {@code gotoblas} variable is not exported. */
    static long runningTable() {
        LongPointer variable = gotoblas;
        if (variable == null) {
            long address = symbol("gotoblas");
            if (address == 0) {
                return 0;
            }
            variable = new LongPointer(at(address));
            gotoblas = variable;
        }
        return variable.get(0);
    }

    /**
     * The function tables of {@link #KNOWN_CORES} that OpenBLAS exports ({@code gotoblas_<CORE>}), by address; looked
     * up once found (an empty answer, before the library is loaded, is not kept).
     */
    static Map<Long, String> coreTables() {
        Map<Long, String> tables = coreTables;
        if (tables == null) {
            Map<Long, String> found = new HashMap<>();
            for (String core : KNOWN_CORES) {
                long address = symbol("gotoblas_" + core);
                if (address != 0) {
                    found.put(address, core);
                }
            }
            tables = Map.copyOf(found);
            if (!tables.isEmpty()) {
                coreTables = tables;
            }
        }
        return tables;
    }

    /** True when sections change OpenBLAS's thread count (allowed, a setter found, more than one thread). */
    public static boolean threadPolicyActive() {
        return configuredThreadCount() > 1 && setThreads != null
                && NativePlatform.allowed(NativePlatform.Effect.BLAS_THREADS);
    }

    /** The thread policy in words, for the platform's log line. */
    static String threadPolicy() {
        int configured = configuredThreadCount();
        if (threadPolicyActive()) {
            return "small calls and step loops run on 1 of " + configured + " threads (the count is set for their "
                    + "duration; -D" + NativePlatform.Effect.BLAS_THREADS.property() + "=keep leaves it alone)";
        }
        return configured + (configured == 1 ? " thread" : " threads") + ", never changed"
                + (setThreads == null && configured > 1 ? " (openblas_set_num_threads not found in its copy)" : "");
    }

    /** The fast engine's OpenBLAS thread count as this class last set it (its configured count before that). */
    public static int currentThreads() {
        configuredThreadCount();
        return threadsNow;
    }

    /**
     * The thread count the fast engine's OpenBLAS copy had before {@link #singleThreaded} first changed it: the count
     * the openblas presets record (ND4J sets it when it initialises), else the one OpenBLAS takes from the
     * environment when it loads (OPENBLAS_NUM_THREADS, else GOTO_NUM_THREADS, else OMP_NUM_THREADS, else one per
     * CPU; at most one per CPU).
     */
    public static int configuredThreadCount() {
        int threads = configured;
        if (threads < 0) {
            synchronized (OpenBlasKernels.class) {
                if (configured < 0) {
                    int recorded = org.bytedeco.openblas.presets.openblas_nolapack.blas_get_num_threads();
                    int count = recorded >= 1 ? recorded : threadsFromEnvironment();
                    // the setter only serves a count above one: a one-thread process skips its lookup, whose
                    // check reads /proc/self/maps (a few milliseconds of start-up)
                    Pointer function = count > 1 ? Loader.addressof("openblas_set_num_threads") : null;
                    try {
                        if (function != null && insideLibrary(List.of(function.address()))) {
                            setThreads = new org.bytedeco.openblas.presets.openblas_nolapack.SetNumThreads() {
                            }.put(function);
                        }
                    } catch (IOException | RuntimeException e) {
                        LOG.debug("OpenBLAS thread control unavailable: {}", e.toString());
                    }
                    configured = count;
                    threadsNow = configured;
                }
                threads = configured;
            }
        }
        return threads;
    }

    /** OpenBLAS's own rule for its thread count at load (driver/others/openblas_env.c, blas_get_cpu_number). */
    private static int threadsFromEnvironment() {
        int cpus = Runtime.getRuntime().availableProcessors();
        for (String name : List.of("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")) {
            String value = System.getenv(name);
            try {
                int count = value == null ? 0 : Integer.parseInt(value.trim());
                if (count > 0) {
                    return Math.min(count, cpus);
                }
            } catch (NumberFormatException e) {
                LOG.debug("{}={} is not a number", name, value);
            }
        }
        return cpus;
    }

    /** A pointer to a raw native address (a symbol's, or one read from native memory), to read or write through. */
    public static Pointer at(long target) {
        return new Pointer() {
            {
                address = target;
            }
        };
    }

    private static long symbol(String name) {
        Pointer pointer = Loader.addressof(name);
        return pointer == null ? 0 : pointer.address();
    }

    /**
     * Whether every address lies in libopenblas_nolapack's image (its file mappings and the anonymous mapping right
     * after them, which holds its .bss), and so not in another copy of OpenBLAS.
     */
    private static boolean insideLibrary(List<Long> addresses) throws IOException {
        long[] image = libraryImage();
        if (image.length == 0) {
            return false;
        }
        for (long address : addresses) {
            if (Long.compareUnsigned(address, image[0]) < 0 || Long.compareUnsigned(address, image[1]) >= 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * [start, end) of libopenblas_nolapack's image in /proc/self/maps, or {} when it is not mapped; read once (the
     * library stays loaded). Each line is "start-end perms offset device inode [path]"; parsed by hand, since a
     * regular-expression split of its 1,500-odd lines costs noticeable start-up time.
     */
    private static long[] libraryImage() throws IOException {
        if (libraryImage != null) {
            return libraryImage;
        }
        long start = -1;
        long end = -1;
        List<long[]> anonymous = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash < 0 || space < dash) {
                continue;
            }
            long from = Long.parseUnsignedLong(line, 0, dash, 16);
            long to = Long.parseUnsignedLong(line, dash + 1, space, 16);
            String path = pathField(line, space);
            if (path.contains(LIBRARY)) {
                start = start == -1 || Long.compareUnsigned(from, start) < 0 ? from : start;
                end = end == -1 || Long.compareUnsigned(to, end) > 0 ? to : end;
            } else if (path.isEmpty()) {
                anonymous.add(new long[] {from, to});
            }
        }
        if (start != -1) {
            for (long[] range : anonymous) {
                if (range[0] == end) {
                    end = range[1];
                }
            }
        }
        libraryImage = start == -1 ? new long[0] : new long[] {start, end};
        return libraryImage;
    }

    /** The sixth whitespace-separated field of a maps line (the path), or "" when the line has five. */
    private static String pathField(String line, int from) {
        int at = from;
        for (int field = 1; field < 5; field++) {
            while (at < line.length() && line.charAt(at) == ' ') {
                at++;
            }
            while (at < line.length() && line.charAt(at) != ' ') {
                at++;
            }
        }
        while (at < line.length() && Character.isWhitespace(line.charAt(at))) {
            at++;
        }
        return line.substring(at).trim();
    }

    /**
     * The instruction-set flags of the first CPU in /proc/cpuinfo (empty when there is no flags line); read once (the
     * native library's check and the kernel check both ask, at start-up). Read with java.io up to the first flags line
     * and split without a regular expression: NIO's Files and a regular expression cost several milliseconds of class loading and
     * interpretation on a program's first call, and a large machine lists its flags once per CPU.
     */
    public static Set<String> cpuFlags() throws IOException {
        Set<String> flags = cpuFlags;
        if (flags == null) {
            flags = Set.of();
            try (BufferedReader in = new BufferedReader(new FileReader("/proc/cpuinfo", StandardCharsets.US_ASCII))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.startsWith("flags")) {
                        flags = words(line.substring(line.indexOf(':') + 1));
                        break;
                    }
                }
            }
            cpuFlags = flags;
        }
        return flags;
    }

    /** The words of {@code text} separated by white space. */
    private static Set<String> words(String text) {
        Set<String> words = new HashSet<>();
        for (StringTokenizer tokens = new StringTokenizer(text); tokens.hasMoreTokens(); ) {
            words.add(tokens.nextToken());
        }
        return Set.copyOf(words);
    }

    /**
     * {@code gotoblas = NULL; gotoblas_dynamic_init()} with {@code OPENBLAS_CORETYPE=coreType} first in the C
     * environment for the duration of the call (glibc's {@code environ} is swapped for a copy and put back).
     */
    private static void reinitialise(LongPointer tablePointer, long init, long environ, String coreType) {
        LongPointer environPointer = new LongPointer(at(environ));
        long original = environPointer.get(0);
        int count = 0;
        LongPointer entries = new LongPointer(at(original));
        while (original != 0 && entries.get(count) != 0) {
            count++;
        }
        // the copy and its new entry stay allocated for the life of the process (they are static): another thread
        // may call getenv while the copy is installed and still be reading it after the original is back
        LongPointer copy = new LongPointer(count + 2L);
        BytePointer setting = new BytePointer("OPENBLAS_CORETYPE=" + coreType);
        switchedEnvironment = copy;
        coreTypeSetting = setting;
        try (LongPointer function = new LongPointer(1)) {
            // getenv returns the first match, so an OPENBLAS_CORETYPE already in the environment is shadowed
            copy.put(0, setting.address());
            for (int i = 0; i < count; i++) {
                copy.put(i + 1L, entries.get(i));
            }
            copy.put(count + 1L, 0L);
            long previousTable = tablePointer.get(0);
            environPointer.put(0, copy.address());
            try {
                tablePointer.put(0, 0L);
                // gotoblas_dynamic_init takes no arguments; a FunctionPointer of the openblas preset calls it (the two
                // pointer arguments are ignored under the x86-64 calling convention). A JavaCPP FunctionPointer's
                // address points at the memory that holds the function's address.
                function.put(0, init);
                new openblas.LAPACK_S_SELECT2(function).call((FloatPointer) null, null);
            } finally {
                environPointer.put(0, original);
                if (tablePointer.get(0) == 0) {
                    tablePointer.put(0, previousTable);
                }
            }
        }
    }

    /** An sgemm and a dgemm through the current kernels, against a Java product. */
    private static boolean gemmsAgree() {
        int m = 37;
        int n = 29;
        int k = 53;
        Random random = new Random(7);
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        float[] c = new float[m * n];
        double[] ad = new double[a.length];
        double[] bd = new double[b.length];
        for (int i = 0; i < a.length; i++) {
            ad[i] = a[i];
        }
        for (int i = 0; i < b.length; i++) {
            bd[i] = b[i];
        }
        double[] cd = new double[m * n];
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasNoTrans, m, n, k, 1f, a, k, b, n, 0f, c, n);
        openblas_nolapack.cblas_dgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasNoTrans, m, n, k, 1.0, ad, k, bd, n, 0.0, cd, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double exact = 0;
                for (int p = 0; p < k; p++) {
                    exact += ad[i * k + p] * bd[p * n + j];
                }
                if (Math.abs(c[i * n + j] - exact) > 1e-4 * (1 + Math.abs(exact))
                        || Math.abs(cd[i * n + j] - exact) > 1e-10 * (1 + Math.abs(exact))) {
                    return false;
                }
            }
        }
        return true;
    }
}
