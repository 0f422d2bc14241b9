package io.torchlstm4j;

import io.torchlstm4j.platform.NativeGates;
import io.torchlstm4j.platform.NativeLibrary;
import io.torchlstm4j.platform.NativePlatform;
import io.torchlstm4j.platform.OpenBlasKernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimeInfoTest {

    @Test
    void reportsTheCpuBackendOpenBlasAndWhatTheFastEngineUses() {
        RuntimeInfo info = RuntimeInfo.current();
        assertEquals("org.nd4j.linalg.cpu.nativecpu.CpuBackend", info.backend());
        assertTrue(info.blas().startsWith("OpenBLAS 0.3."), info.blas());
        assertEquals(NativeLibrary.nativeGateMath(), info.nativeGateMath());
        assertEquals(NativeLibrary.status(), info.nativeGateStatus());
        assertEquals(OpenBlasKernels.status(), info.kernelStatus());
        assertEquals(info.kernelStatus().startsWith("SWITCHED"), info.kernelSwitch());
        assertTrue(NativePlatform.status().initialized(), "asking initialises the platform");
        assertEquals("unknown", info.version(), "the tests run from target/classes, which has no manifest");
    }
}
