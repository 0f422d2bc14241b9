/**
 * The {@code shape-verification} command line program ({@code verify}, {@code compare}, {@code explain}): picocli
 * commands over {@link io.torchlstm4j.verify}, results on stdout, logs and errors on stderr, exit codes and error
 * reports as {@link io.torchlstm4j.cli.Programs} sets them (0 pass, 1 a check failed, 2 usage, 3 bad input,
 * 4 unsupported feature, 5 I/O or environment, 70 internal error).
 */
package io.torchlstm4j.verify.cli;
