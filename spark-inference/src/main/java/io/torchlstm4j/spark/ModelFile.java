package io.torchlstm4j.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A state_dict file's name (its extension says how {@code StateDicts} reads it) and the SHA-256 of its bytes, which
 * identifies the model in each executor's cache. The bytes themselves travel in a Spark broadcast.
 *
 * <p>Immutable.
 *
 * @param fileName the file's name, e.g. {@code model.safetensors}
 * @param sha256   hex digest of the bytes
 *
 * <p>Immutable; safe for concurrent use.
 */
public record ModelFile(String fileName, String sha256) implements Serializable {

    /** The name and digest of {@code bytes} read from {@code file}. */
    public static ModelFile of(Path file, byte[] bytes) {
        return new ModelFile(file.getFileName().toString(), sha256(bytes));
    }

    /** Reads the file's bytes (a state_dict is read whole anyway). */
    public static byte[] read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--model " + file + " is not a file");
        }
        return Files.readAllBytes(file);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
