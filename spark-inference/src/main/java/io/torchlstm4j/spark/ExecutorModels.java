package io.torchlstm4j.spark;

import io.torchlstm4j.weights.StateDicts;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The models of this JVM (one executor), kept for its lifetime: a state_dict's tensors are read once per model
 * file digest, and {@link SequenceClassifier}s built from them are reused by every later task and partition.
 *
 * <p>Each running task borrows a {@link SequenceClassifier} of its own (one instance per concurrently running task, at
 * most the executor's cores) and returns it when the task ends: a classifier could be shared, but one per task keeps
 * each task's working memory its own and warm from task to task.
 * Safe for concurrent use.
 */
final class ExecutorModels {

    private static final Map<Key, Models> MODELS = new ConcurrentHashMap<>();

    /** One model: a file (by digest) read with given prefixes and engine. */
    record Key(String sha256, String lstmPrefix, String headPrefix, io.torchlstm4j.core.Engine engine) {
    }

    private ExecutorModels() {
    }

    /**
     * A classifier for {@code key} that no other thread uses until {@link #giveBack}; {@code bytes} is only asked for
     * when this JVM has not read the file yet.
     */
    static SequenceClassifier borrow(Key key, String fileName, Supplier<byte[]> bytes) {
        Models models = MODELS.computeIfAbsent(key, k -> new Models(read(k, fileName, bytes.get())));
        SequenceClassifier idle = models.idle.poll();
        if (idle != null) {
            return idle;
        }
        models.built.incrementAndGet();
        return SequenceClassifier.fromStateDict(models.tensors, key.lstmPrefix(), key.headPrefix(), key.engine(),
                fileName);
    }

    static void giveBack(Key key, SequenceClassifier classifier) {
        MODELS.get(key).idle.add(classifier);
    }

    /** How many classifiers this JVM has built for {@code key} (0 when none). */
    static int built(Key key) {
        Models models = MODELS.get(key);
        return models == null ? 0 : models.built.get();
    }

    private static Map<String, INDArray> read(Key key, String fileName, byte[] bytes) {
        String digest = ModelFile.sha256(bytes);
        if (!digest.equals(key.sha256())) {
            throw new IllegalStateException("the model bytes of " + fileName + " have SHA-256 " + digest + " but "
                    + key.sha256() + " was expected");
        }
        // StateDicts reads files (and picks the format by extension): a private temporary copy, deleted at once
        Path dir = null;
        try {
            dir = Files.createTempDirectory("torchlstm4j-model");
            Path file = Files.write(dir.resolve(fileName), bytes);
            try {
                return StateDicts.readAll(file);
            } finally {
                Files.delete(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the model " + fileName + " on an executor: " + e.getMessage(), e);
        } finally {
            if (dir != null) {
                dir.toFile().delete();
            }
        }
    }

    private static final class Models {
        final Map<String, INDArray> tensors;
        final ConcurrentLinkedQueue<SequenceClassifier> idle = new ConcurrentLinkedQueue<>();
        final AtomicInteger built = new AtomicInteger();

        Models(Map<String, INDArray> tensors) {
            this.tensors = tensors;
        }
    }
}
