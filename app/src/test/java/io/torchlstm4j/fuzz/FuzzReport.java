package io.torchlstm4j.fuzz;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The outcomes of one fuzzing run of one target.
 *
 * @param target     the target's name
 * @param inputs     inputs read
 * @param successes  reads that returned
 * @param refusals   refusals with the library's exception, counted by kind of message (numbers and quoted text
 *                   masked)
 * @param others     reads that threw anything else, or a refusal without the file's name, or took too long
 * @param examples   the first few of {@code others}: what was thrown (with its stack) and where the input was saved
 * @param seconds    wall time of the run
 * @param maxHeapMb  the JVM's maximum heap during the run
 */
public record FuzzReport(String target, long inputs, long successes, Map<String, Long> refusals, long others,
                         List<String> examples, double seconds, long maxHeapMb) {

    public long refused() {
        return refusals.values().stream().mapToLong(Long::longValue).sum();
    }

    /** A summary: the counts and the most frequent kinds of refusal. */
    public String summary(int kinds) {
        String top = refusals.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                .limit(kinds)
                .map(e -> String.format("    %8d  %s", e.getValue(), e.getKey()))
                .collect(Collectors.joining("\n"));
        return String.format("%s: %d inputs in %.1f s (-Xmx %d MB): %d read, %d refused (%d kinds of message), "
                        + "%d other%n%s%s", target, inputs, seconds, maxHeapMb, successes, refused(), refusals.size(),
                others, top, examples.isEmpty() ? "" : "\n  other outcomes:\n" + String.join("\n", examples));
    }
}
