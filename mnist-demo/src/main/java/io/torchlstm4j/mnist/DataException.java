package io.torchlstm4j.mnist;

/** The data cannot be found, downloaded or read; the message names the file or folder and says what to do. */
public final class DataException extends RuntimeException {

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
