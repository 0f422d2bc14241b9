/**
 * Shape verification: shows, rather than asserts, that an LSTM has {@code torch.nn.LSTM}'s layouts and numbers.
 *
 * <p>{@link io.torchlstm4j.verify.LayoutVerifier} checks the layout invariants (shapes; which slice of
 * {@code output} equals which entry of {@code h_n} for every layer and direction; c_n through a two-chunk run;
 * batch independence) and returns a {@link io.torchlstm4j.verify.VerificationReport}.
 * {@link io.torchlstm4j.verify.FixtureComparison} compares the adapter with a PyTorch run recorded as a parity
 * fixture. {@link io.torchlstm4j.verify.LayoutMap} writes out the layout for any configuration. Nothing here
 * prints or exits: the command line program is {@link io.torchlstm4j.verify.cli.ShapeVerificationCli}.
 */
package io.torchlstm4j.verify;
