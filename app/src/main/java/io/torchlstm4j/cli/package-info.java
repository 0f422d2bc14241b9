/**
 * Shared pieces for command-line programs built on the library with picocli (an optional dependency of the
 * library: a program that uses this package brings picocli itself).
 */
package io.torchlstm4j.cli;
