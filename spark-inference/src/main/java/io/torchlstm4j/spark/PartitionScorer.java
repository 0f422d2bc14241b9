package io.torchlstm4j.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.TaskCompletionListener;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Scores one partition: reads rows into batches of {@code batchSize} valid sequences, runs each batch through the
 * executor's model ({@link ExecutorModels}: built once per JVM, one instance per running task) and emits one
 * prediction row per valid input row, in input order.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {

    private static final long serialVersionUID = 1L;

    private final Broadcast<byte[]> modelBytes;
    private final ModelFile model;
    private final ScoringOptions options;
    private final SequenceReader reader;
    private final OutputSchema output;
    private final int idIndex;
    private final int fileIndex;
    private final RowCounts counts;

    PartitionScorer(Broadcast<byte[]> modelBytes, ModelFile model, ScoringOptions options, SequenceReader reader,
                    OutputSchema output, int idIndex, int fileIndex, RowCounts counts) {
        this.modelBytes = modelBytes;
        this.model = model;
        this.options = options;
        this.reader = reader;
        this.output = output;
        this.idIndex = idIndex;
        this.fileIndex = fileIndex;
        this.counts = counts;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        ExecutorModels.Key key = new ExecutorModels.Key(model.sha256(), options.lstmPrefix(), options.headPrefix(),
                options.engine());
        SequenceClassifier classifier = ExecutorModels.borrow(key, model.fileName(), modelBytes::value);
        TaskContext task = TaskContext.get();
        if (task != null) {
            TaskCompletionListener giveBack = context -> ExecutorModels.giveBack(key, classifier);
            task.addTaskCompletionListener(giveBack);
        }
        int partition = task == null ? 0 : task.partitionId();
        return new Batches(rows, classifier, partition);
    }

    /** Pulls a batch of valid rows whenever the last one is used up. */
    private final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final SequenceClassifier classifier;
        private final int partition;
        private final ArrayDeque<Row> ready = new ArrayDeque<>();
        private long rowIndex;
        private int skippedInTask;

        Batches(Iterator<Row> rows, SequenceClassifier classifier, int partition) {
            this.rows = rows;
            this.classifier = classifier;
            this.partition = partition;
        }

        @Override
        public boolean hasNext() {
            if (ready.isEmpty()) {
                fill();
            }
            return !ready.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return ready.poll();
        }

        private void fill() {
            List<double[]> sequences = new ArrayList<>(options.batchSize());
            List<Object> ids = new ArrayList<>(options.batchSize());
            while (sequences.size() < options.batchSize() && rows.hasNext()) {
                Row row = rows.next();
                SequenceReader.Read read = reader.read(row);
                if (read.problem() != null) {
                    String message = describe(row) + ": " + read.message();
                    if (options.onError() == ErrorPolicy.FAIL) {
                        throw new CorruptRowException(read.problem(), message);
                    }
                    counts.addSkipped(read.problem(), message, skippedInTask++);
                } else {
                    sequences.add(read.values());
                    ids.add(idIndex < 0 ? null : row.get(idIndex));
                }
                rowIndex++;
            }
            if (sequences.isEmpty()) {
                return;
            }
            SequenceClassifier.Scores scores = classifier.predict(sequences, output.finalState());
            for (int i = 0; i < sequences.size(); i++) {
                ready.add(RowFactory.create(output.values(ids.get(i), scores, i)));
            }
            counts.addScored(sequences.size());
        }

        private String describe(Row row) {
            StringBuilder s = new StringBuilder("row ").append(rowIndex).append(" of partition ").append(partition);
            if (fileIndex >= 0 && !row.isNullAt(fileIndex) && !row.getString(fileIndex).isEmpty()) {
                s.append(" (file ").append(row.getString(fileIndex)).append(')');
            }
            if (idIndex >= 0) {
                s.append(" (").append(options.idColumn()).append(" = ").append(row.get(idIndex)).append(')');
            }
            return s.toString();
        }
    }
}
