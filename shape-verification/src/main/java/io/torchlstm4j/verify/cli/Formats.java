package io.torchlstm4j.verify.cli;

import io.torchlstm4j.verify.CheckResult;
import io.torchlstm4j.verify.LayoutMap;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.List;
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

    /** The checks as a table, then each note as "not run: ...", then "all N checks passed" or how many failed. */
    static void checks(List<CheckResult> checks, List<String> notes, PrintWriter out) {
        Table table = new Table("check", "layer", "direction", "compared", "max |diff|", "result");
        for (CheckResult c : checks) {
            table.row(c.name(), layer(c), direction(c), c.compared(), number(c.maxAbsDifference()), result(c.passed()));
        }
        table.print(out);
        for (String note : notes) {
            out.println("not run: " + note);
        }
        long failures = checks.stream().filter(c -> !c.passed()).count();
        out.println(failures == 0 ? "all " + checks.size() + " checks passed"
                : failures + " of " + checks.size() + " checks FAILED");
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
