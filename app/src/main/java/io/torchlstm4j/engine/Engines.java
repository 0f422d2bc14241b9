package io.torchlstm4j.engine;

import io.torchlstm4j.Engine;
import io.torchlstm4j.LstmConfig;
import io.torchlstm4j.fast.FastEngine;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Creates engines and decides which one serves a configuration by default.
 *
 * <p>Safe for concurrent use: stateless.
 */
public final class Engines {

    private Engines() {
    }

    /** The engine used when the caller names none: the fast engine (it supports every configuration). */
    public static Engine defaultFor(LstmConfig config) {
        return Engine.FAST;
    }

    public static LstmEngine create(Engine engine, LstmConfig config, DataType dataType, long seed) {
        return switch (engine) {
            case REFERENCE -> new ReferenceEngine(config, dataType, seed);
            case FAST -> new FastEngine(config, dataType, seed);
        };
    }
}
