package io.torchlstm4j.spark;

import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The predictions' columns: the id column (when given), {@code prediction} (int, argmax of the logits) and
 * {@code logits} (array, one per class) when the model has a head, and {@code h_n}, {@code c_n} (array of
 * (num_layers * D) arrays, PyTorch's h_n[:, i] and c_n[:, i]) when final states are asked for. Numbers are float for
 * a float32 model, double for a float64 one: the model's values exactly.
 *
 * <p>Immutable and safe for concurrent use.
 */
final class OutputSchema implements Serializable {

    private static final long serialVersionUID = 1L;

    private final StructType schema;
    private final boolean hasId;
    private final boolean head;
    private final boolean finalState;
    private final boolean asFloat;

    OutputSchema(StructField id, boolean head, boolean finalState, boolean asFloat) {
        this.hasId = id != null;
        this.head = head;
        this.finalState = finalState || !head;
        this.asFloat = asFloat;
        DataType number = asFloat ? DataTypes.FloatType : DataTypes.DoubleType;
        List<StructField> fields = new ArrayList<>();
        if (id != null) fields.add(id);
        if (head) {
            fields.add(DataTypes.createStructField("prediction", DataTypes.IntegerType, false));
            fields.add(DataTypes.createStructField("logits", DataTypes.createArrayType(number, false), false));
        }
        if (this.finalState) {
            DataType matrix = DataTypes.createArrayType(DataTypes.createArrayType(number, false), false);
            fields.add(DataTypes.createStructField("h_n", matrix, false));
            fields.add(DataTypes.createStructField("c_n", matrix, false));
        }
        schema = DataTypes.createStructType(fields);
    }

    StructType schema() {
        return schema;
    }

    boolean finalState() {
        return finalState;
    }

    /** Row {@code i} of a batch's scores, in column order. */
    Object[] values(Object id, SequenceClassifier.Scores scores, int i) {
        List<Object> values = new ArrayList<>(5);
        if (hasId) values.add(id);
        if (head) {
            values.add(scores.predictions()[i]);
            values.add(vector(scores.logits()[i]));
        }
        if (finalState) {
            values.add(matrix(scores.hN()[i]));
            values.add(matrix(scores.cN()[i]));
        }
        return values.toArray();
    }

    private Object matrix(double[][] rows) {
        Object[] m = new Object[rows.length];
        for (int r = 0; r < rows.length; r++) {
            m[r] = vector(rows[r]);
        }
        return m;
    }

    private Object vector(double[] values) {
        if (!asFloat) {
            return values;
        }
        float[] f = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            f[i] = (float) values[i]; // exact: the values are floats widened to double
        }
        return f;
    }
}
