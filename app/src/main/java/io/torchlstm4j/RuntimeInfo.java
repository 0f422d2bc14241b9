package io.torchlstm4j;

import io.torchlstm4j.platform.NativePlatform;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

/**
 * What the library runs on in this process: its version, ND4J's backend and BLAS, and whether the fast engine's
 * native gate math and OpenBLAS kernel switch are active (for {@code --version} texts, logs and bug reports).
 * An immutable value; safe for concurrent use.
 *
 * @param version          the library's {@code Implementation-Version} (from its jar's manifest), or
 *                         {@code "unknown"} when it does not run from a jar
 * @param backend          ND4J's backend class, e.g. {@code org.nd4j.linalg.cpu.nativecpu.CpuBackend}
 * @param blas             ND4J's BLAS: for OpenBLAS (the vendor ND4J reports on CPU) its version, e.g.
 *                         {@code OpenBLAS 0.3.19}; else the vendor ND4J reports
 * @param nativeGateMath   whether the fast engine's float32 gate math runs natively
 *                         ({@link NativePlatform.Status#nativeGateMath()})
 * @param nativeGateStatus why it does or does not ({@link NativePlatform.Status#nativeLibrary()})
 * @param kernelSwitch     whether the fast engine switched OpenBLAS to better kernels for this CPU
 * @param kernelStatus     what the switch found or did ({@link NativePlatform.Status#openblasKernels()})
 */
public record RuntimeInfo(String version, String backend, String blas, boolean nativeGateMath,
                          String nativeGateStatus, boolean kernelSwitch, String kernelStatus) {

    /**
     * The information for this process. Loads ND4J, and initialises the fast engine's process-wide effects if the
     * fast engine has not run yet ({@link NativePlatform#initialize()}: once per process).
     *
     * @return the current runtime information
     */
    public static RuntimeInfo current() {
        Blas.Vendor vendor = Nd4j.factory().blas().getBlasVendor();
        NativePlatform.Status platform = NativePlatform.initialize();
        return new RuntimeInfo(versionOf(RuntimeInfo.class), Nd4j.getBackend().getClass().getName(),
                // ND4J reports the vendor but version 0.0.0; the version is OpenBLAS's own
                vendor == Blas.Vendor.OPENBLAS ? openblas_nolapack.OPENBLAS_VERSION.trim() : vendor.toString(),
                platform.nativeGateMath(), platform.nativeLibrary(), platform.kernelSwitch(),
                platform.openblasKernels());
    }

    /**
     * The {@code Implementation-Version} of the jar that holds {@code type}.
     *
     * @param type a class of the jar
     * @return the version, or {@code "unknown"} when the class was not loaded from a jar with one
     */
    public static String versionOf(Class<?> type) {
        String version = type.getPackage().getImplementationVersion();
        return version == null ? "unknown" : version;
    }

    /**
     * The information as lines of text, e.g. {@code "native gate math: on (loaded (AVX2))"}.
     *
     * @return one line per item, without the version
     */
    public List<String> lines() {
        return List.of("ND4J backend: " + backend,
                "BLAS: " + blas,
                "native gate math: " + (nativeGateMath ? "on" : "off") + " (" + nativeGateStatus + ")",
                "OpenBLAS kernel switch: " + (kernelSwitch ? "on" : "off") + " (" + kernelStatus + ")");
    }
}
