package io.torchlstm4j.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A tensor file that cannot be used: corrupt, against its format's rules, or holding what this library does not
 * support (an unknown or unsupported dtype, say). The message names the file, the tensor or field, and what is
 * wrong.
 *
 * <p>Immutable once thrown, like any exception, so safe for concurrent use.
 */
public final class TensorFileException extends IOException {

    private final transient Path file;

    public TensorFileException(Path file, String message) {
        super(message);
        this.file = file;
    }

    /** The file that was read. */
    public Path file() {
        return file;
    }
}
