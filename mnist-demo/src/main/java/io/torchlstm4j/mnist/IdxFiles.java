package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;
import io.torchlstm4j.io.ReadLimits;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads MNIST's IDX files ({@code train-images-idx3-ubyte}, {@code t10k-labels-idx1-ubyte}, ...), gzipped or not.
 *
 * <p>IDX: a big-endian magic {@code 0x00000800 | type << 8 | dims} (type 0x08 = unsigned byte), one big-endian int
 * per dimension, then the data. Images are 3-dimensional (count, rows, cols), labels 1-dimensional (count). Any
 * other magic, a truncated file or bytes after the data is an {@link DataException} naming the file.
 */
public final class IdxFiles {

    /** The four files of a dataset, under the standard names (without {@code .gz}). */
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    private IdxFiles() {
    }

    /** The file {@code name} or {@code name.gz} in {@code dir}, whichever exists (uncompressed first). */
    public static Optional<Path> find(Path dir, String name) {
        for (Path p : List.of(dir.resolve(name), dir.resolve(name + ".gz"))) {
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * Reads an images file and its labels file into one {@link Images}; their counts must agree. Each file's
     * header is checked before its data is read: the sizes are multiplied with overflow checks, and the data may
     * be at most {@link ReadLimits#maxTensorBytes()} bytes; a gzipped file is inflated only as far as its header
     * declares (one byte more shows extra data).
     */
    public static Images read(Path imagesFile, Path labelsFile) {
        return read(Source.of(imagesFile), Source.of(labelsFile));
    }

    /**
     * Reads a gzipped images and labels pair from the class path ({@link Class#getResourceAsStream} names, absolute),
     * with the checks of {@link #read(Path, Path)}.
     *
     * @throws DataException when a resource is missing or not a valid gzipped IDX file
     */
    public static Images readResources(String imagesResource, String labelsResource) {
        return read(Source.resource(imagesResource), Source.resource(labelsResource));
    }

    private static Images read(Source imagesFile, Source labelsFile) {
        Idx images = read(imagesFile, IMAGES_MAGIC, "unsigned-byte images, 3 dimensions");
        Idx labels = read(labelsFile, LABELS_MAGIC, "unsigned-byte labels, 1 dimension");
        int[] imageDims = images.dims();
        if (imageDims[0] == 0) {
            throw new DataException(imagesFile + " holds no images");
        }
        if (labels.dims()[0] != imageDims[0]) {
            throw new DataException(imagesFile + " has " + imageDims[0] + " images but " + labelsFile + " has "
                    + labels.dims()[0] + " labels: they must be the same count");
        }
        byte[] labelBytes = labels.data();
        for (int i = 0; i < labelBytes.length; i++) {
            if (labelBytes[i] < 0 || labelBytes[i] >= Images.NUM_CLASSES) {
                throw new DataException(labelsFile + ": label " + i + " is " + (labelBytes[i] & 0xFF)
                        + " but classes 0.." + (Images.NUM_CLASSES - 1) + " were expected");
            }
        }
        return new Images(images.data(), labelBytes, imageDims[1], imageDims[2]);
    }

    /** An IDX file's dimensions and data. */
    private record Idx(int[] dims, byte[] data) {
    }

    /** Where an IDX file's bytes come from: its name (a path or a resource), gzipped when it ends with .gz. */
    private interface Source {
        InputStream open() throws IOException;

        /** The size in bytes of an uncompressed file, when it is known before reading. */
        OptionalLong plainSize() throws IOException;

        static Source of(Path file) {
            return new Source() {
                public InputStream open() throws IOException {
                    return Files.newInputStream(file);
                }

                public OptionalLong plainSize() throws IOException {
                    return OptionalLong.of(Files.size(file));
                }

                public String toString() {
                    return file.toString();
                }
            };
        }

        static Source resource(String name) {
            return new Source() {
                public InputStream open() {
                    InputStream in = IdxFiles.class.getResourceAsStream(name);
                    if (in == null) {
                        throw new DataException("the resource " + name + " is missing from the class path");
                    }
                    return in;
                }

                public OptionalLong plainSize() {
                    return OptionalLong.empty();
                }

                public String toString() {
                    return name;
                }
            };
        }
    }

    private static Idx read(Source file, int magic, String what) {
        try (InputStream raw = file.open();
             InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            int[] dims = header(file, in.readNBytes(4 + 4 * (magic & 0xFF)), magic, what);
            String announced = dims.length == 3 ? dims[0] + " images of " + dims[1] + "x" + dims[2] + " pixels"
                    : dims[0] + " labels";
            long expected = 1;
            for (int d : dims) {
                expected = multiply(file, expected, d, announced);
            }
            long limit = ReadLimits.maxTensorBytes();
            if (expected > limit) {
                throw new DataException(file + ": its header announces " + announced + " = " + expected + " bytes, "
                        + "more than the " + limit + " accepted (raise -Xmx or set -Dtorchlstm4j.io.maxTensorBytes)");
            }
            OptionalLong size = raw == in ? file.plainSize() : OptionalLong.empty();
            if (size.isPresent()) {
                long follow = size.getAsLong() - 4 - 4L * dims.length;
                if (follow != expected) {
                    throw new DataException(file + (follow < expected ? " is truncated" : " has extra bytes")
                            + ": its header announces " + announced + " = " + expected + " bytes but " + follow
                            + " bytes follow the header");
                }
            }
            byte[] data = in.readNBytes((int) expected);
            if (data.length < expected) {
                throw new DataException(file + " is truncated: its header announces " + announced + " = " + expected
                        + " bytes but " + data.length + " bytes follow the header");
            }
            if (in.read() >= 0) {
                throw new DataException(file + " has extra bytes: its header announces " + announced + " = "
                        + expected + " bytes but more bytes follow the header");
            }
            return new Idx(dims, data);
        } catch (ZipException | EOFException e) {
            throw new DataException(ExitCode.BAD_INPUT, file + " is not a complete gzip file ("
                    + (e.getMessage() == null ? "unexpected end of data" : e.getMessage()) + ")",
                    "delete it and download it again", e);
        } catch (IOException e) {
            throw new DataException("cannot read " + file + ": " + e, e);
        }
    }

    private static int[] header(Source file, byte[] header, int magic, String what) {
        ByteBuffer buffer = ByteBuffer.wrap(header);
        if (buffer.remaining() >= 4) {
            int found = buffer.getInt(0);
            if (found != magic) {
                throw new DataException(String.format("%s is not an IDX file of %s: magic number 0x%08X was "
                        + "expected but 0x%08X was found", file, what, magic, found));
            }
        }
        int dims = magic & 0xFF;
        if (buffer.remaining() < 4 + 4 * dims) {
            throw new DataException(file + " is truncated: " + buffer.remaining() + " bytes, but an IDX header of "
                    + (4 + 4 * dims) + " bytes was expected");
        }
        buffer.getInt();
        int[] sizes = new int[dims];
        for (int d = 0; d < dims; d++) {
            sizes[d] = buffer.getInt();
            if (sizes[d] < 0) {
                throw new DataException(file + ": dimension " + d + " has negative size " + sizes[d]);
            }
        }
        if (dims == 3 && (sizes[1] == 0 || sizes[2] == 0)) {
            throw new DataException(file + ": its header announces images of " + sizes[1] + "x" + sizes[2]
                    + " pixels, but rows and columns must be at least 1");
        }
        return sizes;
    }

    private static long multiply(Source file, long a, int b, String announced) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException overflow) {
            throw new DataException(file + ": its header announces " + announced + ", more than 2^63 bytes");
        }
    }
}
