/**
 * The {@code shape-verification} command line program ({@code verify}, {@code compare}, {@code explain}): picocli
 * commands over {@link io.torchlstm4j.verify}, results on stdout, logs and errors on stderr, exit codes 0 pass,
 * 1 error, 2 usage, 3 mismatch, 4 unsupported feature.
 */
package io.torchlstm4j.verify.cli;
