package io.torchlstm4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * Reads one row's sequence into its values, step after step, checking it before any model code sees it. Which
 * layout the column has is decided once from the schema ({@link #forSchema}).
 *
 * <p>Immutable and safe for concurrent use.
 */
final class SequenceReader implements Serializable {

    private static final long serialVersionUID = 1L;
    private static final Pattern SPACES = Pattern.compile("\\s+");

    /** How the column holds a sequence. */
    enum Layout {
        /** array&lt;array&lt;number&gt;&gt;: one inner array per step. */
        NESTED,
        /** array&lt;number&gt;: steps * input_size values. */
        FLAT,
        /** a string of numbers separated by spaces: steps * input_size values. */
        TEXT
    }

    private final String column;
    private final int index;
    private final Layout layout;
    private final int inputSize;
    private final int maxLength;

    private SequenceReader(String column, int index, Layout layout, int inputSize, int maxLength) {
        this.column = column;
        this.index = index;
        this.layout = layout;
        this.inputSize = inputSize;
        this.maxLength = maxLength;
    }

    /**
     * @throws IllegalArgumentException when the column is missing or of no layout this reader knows
     */
    static SequenceReader forSchema(StructType schema, String column, int inputSize, int maxLength) {
        if (!Arrays.asList(schema.fieldNames()).contains(column)) {
            throw new IllegalArgumentException("the input has no column '" + column + "' (the features); its columns "
                    + "are " + Arrays.toString(schema.fieldNames()));
        }
        DataType type = schema.apply(column).dataType();
        Layout layout;
        if (type instanceof ArrayType outer && outer.elementType() instanceof ArrayType inner
                && inner.elementType() instanceof NumericType) {
            layout = Layout.NESTED;
        } else if (type instanceof ArrayType outer && outer.elementType() instanceof NumericType) {
            layout = Layout.FLAT;
        } else if (type.equals(DataTypes.StringType)) {
            layout = Layout.TEXT;
        } else {
            throw new IllegalArgumentException("column '" + column + "' is " + type.simpleString() + " but "
                    + "array<array<number>> (steps x input_size), array<number> (steps * input_size values) or a "
                    + "string of numbers separated by spaces was expected");
        }
        return new SequenceReader(column, schema.fieldIndex(column), layout, inputSize, maxLength);
    }

    Layout layout() {
        return layout;
    }

    /**
     * The sequence's values, or the problem that keeps it from being scored (message without the row's name).
     */
    Read read(Row row) {
        if (row.isNullAt(index)) {
            return Read.problem(RowProblem.NULL, column + " is null");
        }
        return switch (layout) {
            case NESTED -> nested(row.getSeq(index));
            case FLAT -> flat(row.getSeq(index));
            case TEXT -> text(row.getString(index));
        };
    }

    private Read nested(scala.collection.Seq<scala.collection.Seq<Object>> steps) {
        int length = steps.length();
        Read tooLong = lengthCheck(length);
        if (tooLong != null) return tooLong;
        double[] values = new double[length * inputSize];
        for (int t = 0; t < length; t++) {
            scala.collection.Seq<Object> step = steps.apply(t);
            if (step == null) {
                return Read.problem(RowProblem.NULL, column + "[" + t + "] is null");
            }
            if (step.length() != inputSize) {
                return Read.problem(RowProblem.SHAPE, column + "[" + t + "] has " + step.length()
                        + " values but input_size = " + inputSize + " was expected");
            }
            for (int f = 0; f < inputSize; f++) {
                Read bad = store(values, t * inputSize + f, step.apply(f), "[" + t + "][" + f + "]");
                if (bad != null) return bad;
            }
        }
        return Read.values(values);
    }

    private Read flat(scala.collection.Seq<Object> seq) {
        Read shape = sizeCheck(seq.length());
        if (shape != null) return shape;
        double[] values = new double[seq.length()];
        for (int i = 0; i < values.length; i++) {
            Read bad = store(values, i, seq.apply(i), "[" + i + "]");
            if (bad != null) return bad;
        }
        return Read.values(values);
    }

    private Read text(String text) {
        String stripped = text.strip();
        String[] tokens = stripped.isEmpty() ? new String[0] : SPACES.split(stripped);
        Read shape = sizeCheck(tokens.length);
        if (shape != null) return shape;
        double[] values = new double[tokens.length];
        for (int i = 0; i < values.length; i++) {
            double v;
            try {
                v = Double.parseDouble(tokens[i]);
            } catch (NumberFormatException e) {
                return Read.problem(RowProblem.NOT_A_NUMBER, column + " value " + i + " is \"" + tokens[i]
                        + "\" but a number was expected");
            }
            Read bad = store(values, i, v, " value " + i);
            if (bad != null) return bad;
        }
        return Read.values(values);
    }

    private Read sizeCheck(int size) {
        if (size == 0 || size % inputSize != 0) {
            return Read.problem(RowProblem.SHAPE, column + " has " + size + " values but a positive multiple of "
                    + "input_size = " + inputSize + " was expected");
        }
        return lengthCheck(size / inputSize);
    }

    private Read lengthCheck(int length) {
        if (length == 0) {
            return Read.problem(RowProblem.SHAPE, column + " has no steps but at least one was expected");
        }
        if (length > maxLength) {
            return Read.problem(RowProblem.TOO_LONG, column + " has " + length + " steps but at most --max-length = "
                    + maxLength + " are accepted");
        }
        return null;
    }

    private Read store(double[] values, int i, Object value, String where) {
        if (value == null) {
            return Read.problem(RowProblem.NULL, column + where + " is null");
        }
        double v = ((Number) value).doubleValue();
        if (!Double.isFinite(v)) {
            return Read.problem(RowProblem.NON_FINITE, column + where + " is " + v + " but a finite number was "
                    + "expected");
        }
        values[i] = v;
        return null;
    }

    /** A sequence's values, or why there are none. */
    record Read(double[] values, RowProblem problem, String message) {
        static Read values(double[] values) {
            return new Read(values, null, null);
        }

        static Read problem(RowProblem problem, String message) {
            return new Read(null, problem, message);
        }
    }
}
