package io.torchlstm4j.verify;

import io.torchlstm4j.core.LstmConfig;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;

/**
 * The result of {@link LayoutVerifier#verify}: what ran, the shapes it returned and one entry per check.
 *
 * @param config      the LSTM's configuration
 * @param subject     what ran, e.g. {@code TorchLstm on engine REFERENCE}
 * @param dataType    FLOAT or DOUBLE
 * @param atol        the absolute tolerance every numeric check used
 * @param lengths     the per-sample lengths of the run, or null
 * @param outputShape the shape of output as returned
 * @param hnShape     the shape of h_n as returned
 * @param cnShape     the shape of c_n as returned
 * @param checks      one entry per check, in the order they ran
 * @param notes       checks that do not apply to this configuration or input, and why
 */
public record VerificationReport(LstmConfig config, String subject, DataType dataType, double atol,
                                 List<Integer> lengths, List<Long> outputShape, List<Long> hnShape,
                                 List<Long> cnShape, List<CheckResult> checks, List<String> notes) {

    /** Copies the lists, so that a report never changes. */
    public VerificationReport {
        lengths = lengths == null ? null : List.copyOf(lengths);
        outputShape = List.copyOf(outputShape);
        hnShape = List.copyOf(hnShape);
        cnShape = List.copyOf(cnShape);
        checks = List.copyOf(checks);
        notes = List.copyOf(notes);
    }

    /** True when every check passed. */
    public boolean passed() {
        return checks.stream().allMatch(CheckResult::passed);
    }

    /** The number of checks that failed. */
    public long failures() {
        return checks.stream().filter(c -> !c.passed()).count();
    }
}
