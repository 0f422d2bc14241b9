package io.torchlstm4j.spark;

import org.apache.spark.SparkContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

import java.io.Serializable;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Rows scored and rows skipped (by {@link RowProblem}) by a scoring job, as Spark accumulators: read them after the
 * action that ran the job. Spark applies a task's accumulator updates once per successful task attempt; a task that
 * is re-run after a lost executor may count its rows again (Spark's rule for accumulators updated in
 * transformations). Safe for concurrent use (accumulators are).
 */
public final class RowCounts implements Serializable {

    private static final long serialVersionUID = 1L;
    /** Skipped rows whose message is kept per task, for the log. */
    static final int EXAMPLES_PER_TASK = 5;

    private final LongAccumulator scored;
    private final EnumMap<RowProblem, LongAccumulator> skipped = new EnumMap<>(RowProblem.class);
    private final CollectionAccumulator<String> examples;

    RowCounts(SparkContext sc) {
        scored = sc.longAccumulator("torchlstm4j rows scored");
        for (RowProblem p : RowProblem.values()) {
            skipped.put(p, sc.longAccumulator("torchlstm4j rows skipped: " + p));
        }
        examples = sc.collectionAccumulator("torchlstm4j skipped rows");
    }

    void addScored(long n) {
        scored.add(n);
    }

    void addSkipped(RowProblem problem, String example, int skippedInTask) {
        skipped.get(problem).add(1);
        if (skippedInTask < EXAMPLES_PER_TASK) {
            examples.add(example);
        }
    }

    /** Rows written. */
    public long scored() {
        return scored.value();
    }

    /** Rows skipped, by problem (every problem present, zero when none). */
    public Map<RowProblem, Long> skipped() {
        Map<RowProblem, Long> counts = new EnumMap<>(RowProblem.class);
        skipped.forEach((p, acc) -> counts.put(p, acc.value()));
        return counts;
    }

    /** All rows skipped. */
    public long skippedTotal() {
        return skipped().values().stream().mapToLong(Long::longValue).sum();
    }

    /** What was wrong with some of the skipped rows (at most {@value #EXAMPLES_PER_TASK} per task). */
    public List<String> examples() {
        return List.copyOf(examples.value());
    }
}
