package io.torchlstm4j.mnist;

import io.torchlstm4j.cli.ExitCode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
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

    /** Reads an images file and its labels file into one {@link Images}; their counts must agree. */
    public static Images read(Path imagesFile, Path labelsFile) {
        return parse(imagesFile.toString(), bytes(imagesFile), labelsFile.toString(), bytes(labelsFile));
    }

    /**
     * Reads a gzipped images and labels pair from the class path ({@link Class#getResourceAsStream} names, absolute).
     *
     * @throws DataException when a resource is missing or not a valid gzipped IDX file
     */
    public static Images readResources(String imagesResource, String labelsResource) {
        return parse(imagesResource, resourceBytes(imagesResource), labelsResource, resourceBytes(labelsResource));
    }

    private static Images parse(String imagesFile, byte[] imagesBytes, String labelsFile, byte[] labelsBytes) {
        ByteBuffer images = ByteBuffer.wrap(imagesBytes);
        int[] imageDims = header(imagesFile, images, IMAGES_MAGIC, "unsigned-byte images, 3 dimensions");
        byte[] pixels = body(imagesFile, images, (long) imageDims[0] * imageDims[1] * imageDims[2],
                imageDims[0] + " images of " + imageDims[1] + "x" + imageDims[2] + " pixels");
        ByteBuffer labelsBuffer = ByteBuffer.wrap(labelsBytes);
        int[] labelDims = header(labelsFile, labelsBuffer, LABELS_MAGIC, "unsigned-byte labels, 1 dimension");
        byte[] labels = body(labelsFile, labelsBuffer, labelDims[0], labelDims[0] + " labels");
        if (imageDims[0] == 0) {
            throw new DataException(imagesFile + " holds no images");
        }
        if (labelDims[0] != imageDims[0]) {
            throw new DataException(imagesFile + " has " + imageDims[0] + " images but " + labelsFile + " has "
                    + labelDims[0] + " labels: they must be the same count");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= Images.NUM_CLASSES) {
                throw new DataException(labelsFile + ": label " + i + " is " + (labels[i] & 0xFF)
                        + " but classes 0.." + (Images.NUM_CLASSES - 1) + " were expected");
            }
        }
        return new Images(pixels, labels, imageDims[1], imageDims[2]);
    }

    private static byte[] bytes(Path file) {
        try (InputStream raw = Files.newInputStream(file)) {
            return contents(file.toString(), raw);
        } catch (IOException e) {
            throw new DataException("cannot read " + file + ": " + e, e);
        }
    }

    private static byte[] resourceBytes(String resource) {
        try (InputStream raw = IdxFiles.class.getResourceAsStream(resource)) {
            if (raw == null) {
                throw new DataException("the resource " + resource + " is missing from the class path");
            }
            return contents(resource, raw);
        } catch (IOException e) {
            throw new DataException("cannot read the resource " + resource + ": " + e, e);
        }
    }

    /** The bytes of {@code raw}, gunzipped when {@code name} ends with .gz. */
    private static byte[] contents(String name, InputStream raw) throws IOException {
        try {
            InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw) : raw;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (ZipException | java.io.EOFException e) {
            throw new DataException(ExitCode.BAD_INPUT, name + " is not a complete gzip file (" + e.getMessage() + ")",
                    "delete it and download it again", e);
        }
    }

    private static int[] header(String file, ByteBuffer buffer, int magic, String what) {
        int dims = magic & 0xFF;
        if (buffer.remaining() >= 4) {
            int found = buffer.getInt(0);
            if (found != magic) {
                throw new DataException(String.format("%s is not an IDX file of %s: magic number 0x%08X was "
                        + "expected but 0x%08X was found", file, what, magic, found));
            }
        }
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
        return sizes;
    }

    private static byte[] body(String file, ByteBuffer buffer, long expected, String what) {
        if (buffer.remaining() != expected) {
            throw new DataException(file + (buffer.remaining() < expected ? " is truncated" : " has extra bytes")
                    + ": its header announces " + what + " = " + expected + " bytes but " + buffer.remaining()
                    + " bytes follow the header");
        }
        byte[] out = new byte[(int) expected];
        buffer.get(out);
        return out;
    }
}
