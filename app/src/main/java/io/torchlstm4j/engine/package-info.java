/**
 * The seam between the API and the computations: {@link io.torchlstm4j.engine.LstmEngine}, one engine's entry points
 * {@link io.torchlstm4j.engine.LstmEngineProvider} (found with {@link java.util.ServiceLoader}) and
 * {@link io.torchlstm4j.engine.Engines}, the lookup by {@link io.torchlstm4j.core.Engine}. Names no engine class.
 */
package io.torchlstm4j.engine;
