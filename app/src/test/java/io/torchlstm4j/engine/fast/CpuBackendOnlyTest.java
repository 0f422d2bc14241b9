package io.torchlstm4j.engine.fast;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuBackendOnlyTest {

    @Test
    void theCpuBackendIsAccepted() {
        assertEquals(Optional.empty(), CpuBackendOnly.refusal(CpuBackendOnly.CPU_BACKEND));
        assertEquals(CpuBackendOnly.CPU_BACKEND, Nd4j.getBackend().getClass().getName(), "the tests run on ND4J's CPU backend");
        assertDoesNotThrow(CpuBackendOnly::require);
    }

    @Test
    void aCudaBackendIsRefusedWithTheEngineToUseInstead() {
        String message = CpuBackendOnly.refusal("org.nd4j.linalg.jcublas.JCublasBackend").orElseThrow();
        assertTrue(message.contains("org.nd4j.linalg.jcublas.JCublasBackend"), message);
        assertTrue(message.contains("CPU backend"), message);
        assertTrue(message.contains("Engine.REFERENCE"), message);
    }
}
