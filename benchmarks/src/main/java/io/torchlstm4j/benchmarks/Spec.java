package io.torchlstm4j.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One benchmark workload as the coordinator sends it to a worker: {@code key=value} words, so that the shapes
 * are written once (in {@link Case}) and the PyTorch worker reads the same words.
 *
 * @param kind         classifier_train, classifier_forward, lstm_forward, lstm_forward_raw, or lstm_step /
 *                     lstm_step_unbatched (L steps per call, (h, c) carried from one call to the next; the unbatched
 *                     kind's input is (L, H_in) and its state has no N axis)
 * @param variant      which implementation inside the worker (our engine name, or the peer's name)
 * @param inputSize    H_in
 * @param hiddenSize   H
 * @param numLayers    stacked layers
 * @param bidirectional D = 2
 * @param batchFirst   (N, L, H_in) instead of (L, N, H_in)
 * @param withState    random (h0, c0) instead of zeros (lstm_forward only)
 * @param seqLen       L
 * @param batch        N
 * @param classes      classes of the Linear head (classifier kinds)
 * @param learningRate Adam's learning rate (classifier_train)
 */
public record Spec(String kind, String variant, int inputSize, int hiddenSize, int numLayers, boolean bidirectional,
                   boolean batchFirst, boolean withState, int seqLen, int batch, int classes, double learningRate) {

    /** The words sent to a worker, without the iteration count. */
    public List<String> words() {
        List<String> words = new ArrayList<>();
        words.add("kind=" + kind);
        words.add("variant=" + variant);
        words.add("in=" + inputSize);
        words.add("hidden=" + hiddenSize);
        words.add("layers=" + numLayers);
        words.add("bidir=" + (bidirectional ? 1 : 0));
        words.add("batch_first=" + (batchFirst ? 1 : 0));
        words.add("state=" + (withState ? 1 : 0));
        words.add("L=" + seqLen);
        words.add("N=" + batch);
        words.add("classes=" + classes);
        words.add("lr=" + learningRate);
        return words;
    }

    /** The same workload for another implementation or kind. */
    public Spec with(String newKind, String newVariant) {
        return new Spec(newKind, newVariant, inputSize, hiddenSize, numLayers, bidirectional, batchFirst, withState,
                seqLen, batch, classes, learningRate);
    }

    /** Parses {@code key=value} words (extra keys such as {@code iters} are ignored). */
    public static Spec parse(List<String> words) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String word : words) {
            int eq = word.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected key=value, got '" + word + "'");
            }
            map.put(word.substring(0, eq), word.substring(eq + 1));
        }
        return new Spec(get(map, "kind"), get(map, "variant"), Integer.parseInt(get(map, "in")),
                Integer.parseInt(get(map, "hidden")), Integer.parseInt(get(map, "layers")),
                "1".equals(get(map, "bidir")), "1".equals(get(map, "batch_first")), "1".equals(get(map, "state")),
                Integer.parseInt(get(map, "L")), Integer.parseInt(get(map, "N")),
                Integer.parseInt(get(map, "classes")), Double.parseDouble(get(map, "lr")));
    }

    private static String get(Map<String, String> map, String key) {
        String value = map.get(key);
        if (value == null) {
            throw new IllegalArgumentException("missing " + key + "=... in " + map);
        }
        return value;
    }

    /** D. */
    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** True for the kinds whose tensors have no batch axis (PyTorch's unbatched input). */
    public boolean unbatched() {
        return kind.endsWith("_unbatched");
    }

    /** The input's shape in this spec's layout. */
    public long[] inputShape() {
        if (unbatched()) {
            return new long[] {seqLen, inputSize};
        }
        return batchFirst ? new long[] {batch, seqLen, inputSize} : new long[] {seqLen, batch, inputSize};
    }
}
