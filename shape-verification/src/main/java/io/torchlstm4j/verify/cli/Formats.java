package io.torchlstm4j.verify.cli;

import io.torchlstm4j.verify.CheckResult;
import io.torchlstm4j.verify.LayoutMap;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine;

import java.util.Locale;

/** How the commands write numbers, dtypes and check cells. */
final class Formats {

    private Formats() {
    }

    /** PyTorch's dtype name: float32 or float64. */
    static String dtype(DataType dataType) {
        return switch (dataType) {
            case FLOAT -> "float32";
            case DOUBLE -> "float64";
            default -> dataType.name().toLowerCase(Locale.ROOT);
        };
    }

    /** A max |difference| or tolerance: 3 significant digits, {@code -} for NaN, {@code inf} for infinity. */
    static String number(double value) {
        if (Double.isNaN(value)) {
            return "-";
        }
        if (Double.isInfinite(value)) {
            return "inf";
        }
        return String.format(Locale.ROOT, "%.2e", value);
    }

    static String layer(CheckResult check) {
        return check.layer() == CheckResult.ALL ? "-" : String.valueOf(check.layer());
    }

    static String direction(CheckResult check) {
        return check.direction() == CheckResult.ALL ? "-" : LayoutMap.directionName(check.direction());
    }

    static String result(boolean passed) {
        return passed ? "PASS" : "FAIL";
    }

    /** Parses {@code float32} / {@code float64} (PyTorch's names) into an ND4J data type. */
    static final class DtypeConverter implements CommandLine.ITypeConverter<DataType> {
        @Override
        public DataType convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "float32", "float" -> DataType.FLOAT;
                case "float64", "double" -> DataType.DOUBLE;
                default -> throw new CommandLine.TypeConversionException("'" + value
                        + "' is not a dtype: float32 or float64 was expected");
            };
        }
    }
}
