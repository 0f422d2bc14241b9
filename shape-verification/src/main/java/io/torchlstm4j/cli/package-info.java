/**
 * What TorchLSTM4j's command-line programs share: their {@link io.torchlstm4j.cli.ExitCode}s and how they report a
 * failure ({@link io.torchlstm4j.cli.Programs}). Not part of the library's API; the programs only.
 */
package io.torchlstm4j.cli;
