package io.torchlstm4j.engine;

import io.torchlstm4j.core.Engine;
import io.torchlstm4j.core.LstmConfig;

import java.util.EnumMap;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Finds the engines ({@link LstmEngineProvider}s on the class path) and decides which one serves a configuration by
 * default.
 *
 * <p>Safe for concurrent use: the providers are looked up once, when this class initialises, and never change.
 */
public final class Engines {

    /** Found with this interface's class loader, so that it works where the context class loader differs (Spark). */
    private static final Map<Engine, LstmEngineProvider> PROVIDERS = load();

    private Engines() {
    }

    /** The engine used when the caller names none: the fast engine (it supports every configuration). */
    public static Engine defaultFor(LstmConfig config) {
        return Engine.FAST;
    }

    /**
     * The provider of {@code engine}.
     *
     * @throws IllegalStateException when no provider of it is on the class path (a repackaged jar that lost
     *                               {@code META-INF/services/io.torchlstm4j.engine.LstmEngineProvider})
     */
    public static LstmEngineProvider provider(Engine engine) {
        LstmEngineProvider provider = PROVIDERS.get(engine);
        if (provider == null) {
            throw new IllegalStateException("no provider of Engine." + engine + " on the class path (found "
                    + PROVIDERS.keySet() + "): the jar's META-INF/services/" + LstmEngineProvider.class.getName()
                    + " is missing or was not merged");
        }
        return provider;
    }

    private static Map<Engine, LstmEngineProvider> load() {
        Map<Engine, LstmEngineProvider> providers = new EnumMap<>(Engine.class);
        for (LstmEngineProvider provider : ServiceLoader.load(LstmEngineProvider.class,
                LstmEngineProvider.class.getClassLoader())) {
            providers.putIfAbsent(provider.engine(), provider);
        }
        return providers;
    }
}
