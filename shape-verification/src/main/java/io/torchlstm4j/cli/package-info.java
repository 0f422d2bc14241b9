/**
 * What TorchLSTM4j's command-line programs share: their {@link io.torchlstm4j.cli.ExitCode}s, how they report a
 * failure ({@link io.torchlstm4j.cli.Programs}) and their {@code --version} ({@link io.torchlstm4j.cli.VersionProvider}). Not part of the library's API; the programs only.
 */
package io.torchlstm4j.cli;
