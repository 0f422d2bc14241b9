package io.torchlstm4j;

import io.torchlstm4j.fast.NativeGates;
import io.torchlstm4j.fast.NativePlatform;
import io.torchlstm4j.fast.OpenBlasKernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RuntimeInfoTest {

    @Test
    void reportsTheCpuBackendOpenBlasAndWhatTheFastEngineUses() {
        RuntimeInfo info = RuntimeInfo.current();
        assertEquals("org.nd4j.linalg.cpu.nativecpu.CpuBackend", info.backend());
        assertTrue(info.blas().startsWith("OpenBLAS 0.3."), info.blas());
        assertEquals(NativeGates.enabled(), info.nativeGateMath());
        assertEquals(NativeGates.status(), info.nativeGateStatus());
        assertEquals(OpenBlasKernels.status(), info.kernelStatus());
        assertEquals(info.kernelStatus().startsWith("SWITCHED"), info.kernelSwitch());
        assertTrue(NativePlatform.status().initialized(), "asking initialises the platform");
        assertEquals("unknown", info.version(), "the tests run from target/classes, which has no manifest");
    }
}
