package io.torchlstm4j.engine;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EnginesTest {

    @ParameterizedTest
    @EnumSource(Engine.class)
    void everyEngineHasAProviderOnTheClassPathThatCreatesIt(Engine engine) {
        LstmEngineProvider provider = Engines.provider(engine);
        assertEquals(engine, provider.engine());
        LstmConfig config = LstmConfig.builder(3, 4).build();
        LstmEngine created = provider.create(config, DataType.DOUBLE, 1);
        assertEquals(config, created.config());
        assertEquals(DataType.DOUBLE, created.dataType());
    }
}
