package io.torchlstm4j.verify;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * The project's default absolute tolerances for a comparison with PyTorch, by precision: what an exact
 * implementation reaches after rounding (forward: 1e-5 in float32, 1e-10 in float64; gradients: 1e-4 and 1e-9).
 */
public final class Tolerances {

    private Tolerances() {
    }

    /** The tolerance for output, h_n and c_n: 1e-5 for FLOAT, 1e-10 for DOUBLE. */
    public static double forward(DataType dataType) {
        return switch (checked(dataType)) {
            case FLOAT -> 1e-5;
            default -> 1e-10;
        };
    }

    /** The tolerance for parameter gradients: 1e-4 for FLOAT, 1e-9 for DOUBLE. */
    public static double gradient(DataType dataType) {
        return switch (checked(dataType)) {
            case FLOAT -> 1e-4;
            default -> 1e-9;
        };
    }

    private static DataType checked(DataType dataType) {
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("dtype " + dataType + " has no default tolerance: FLOAT (float32) or "
                    + "DOUBLE (float64) was expected");
        }
        return dataType;
    }
}
