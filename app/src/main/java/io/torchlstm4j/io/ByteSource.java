package io.torchlstm4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Random access to the bytes of a file or of an array, for the readers that seek (zip directories, PyTorch
 * checkpoints). Every read names the file and is checked against its size, so a position or length taken from
 * the file cannot read past its end or size an allocation beyond the bytes present. Not safe for concurrent use.
 */
abstract class ByteSource {

    private final Path file;

    private ByteSource(Path file) {
        this.file = file;
    }

    static ByteSource of(Path file, FileChannel channel) {
        return new ByteSource(file) {
            @Override
            long size() throws IOException {
                return channel.size();
            }

            @Override
            void readInto(long position, byte[] into) throws IOException {
                ByteBuffer buffer = ByteBuffer.wrap(into);
                while (buffer.hasRemaining()) {
                    if (channel.read(buffer, position + buffer.position()) < 0) {
                        throw new TensorFileException(file, file + ": the file ended at byte "
                                + (position + buffer.position()) + " while " + into.length + " bytes from byte "
                                + position + " were being read (did it change?)");
                    }
                }
            }
        };
    }

    static ByteSource of(Path file, byte[] bytes) {
        return new ByteSource(file) {
            @Override
            long size() {
                return bytes.length;
            }

            @Override
            void readInto(long position, byte[] into) {
                System.arraycopy(bytes, (int) position, into, 0, into.length);
            }
        };
    }

    Path file() {
        return file;
    }

    abstract long size() throws IOException;

    /** Fills {@code into} from {@code position}; the caller has checked the range against {@link #size}. */
    abstract void readInto(long position, byte[] into) throws IOException;

    /**
     * The {@code length} bytes at {@code position}, or a {@link TensorFileException} saying what they were
     * ({@code what}) when they are not all in the file.
     */
    byte[] read(long position, long length, String what) throws IOException {
        long size = size();
        if (position < 0 || length < 0 || position > size || length > size - position) {
            throw new TensorFileException(file, file + ": " + what + " (" + length + " bytes from byte " + position
                    + ") is not within the file of " + size + " bytes");
        }
        if (length > TensorBytes.MAX_BYTES) {
            throw new TensorFileException(file, file + ": " + what + " is " + length + " bytes, more than one Java "
                    + "array holds (" + TensorBytes.MAX_BYTES + ")");
        }
        byte[] bytes = new byte[(int) length];
        readInto(position, bytes);
        return bytes;
    }
}
