package io.torchlstm4j.mnist;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Image files as MNIST-like input: greyscale (ITU-R 601 luma, as PIL's {@code convert("L")}; transparency composed
 * over white), resized to size x size by area averaging, and inverted when the border is light (MNIST digits are
 * light on a black background). An 8-bit greyscale image of size x size keeps its pixel values exactly.
 *
 * <p>An image is decoded only when its header declares at most {@link #maxPixels()} pixels (system property
 * {@value #MAX_PIXELS}); anything that cannot be decoded is a {@link DataException} naming the file.
 */
final class ImageInput {

    /** The system property that bounds the pixels of one input image. */
    static final String MAX_PIXELS = "torchlstm4j.mnist.maxImagePixels";

    private ImageInput() {
    }

    /** The images, in order, with label 0 (unknown). */
    static Images read(List<Path> files, int size) throws IOException {
        byte[] pixels = new byte[files.size() * size * size];
        for (int i = 0; i < files.size(); i++) {
            System.arraycopy(pixels(files.get(i), size), 0, pixels, i * size * size, size * size);
        }
        return new Images(pixels, new byte[files.size()], size, size);
    }

    static byte[] pixels(Path file, int size) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new DataException(file + ": no such file");
        }
        BufferedImage source = decode(file);
        double[][] resized = resize(grey(source), size);
        byte[] pixels = new byte[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                pixels[y * size + x] = (byte) Math.max(0, Math.min(255, Math.round(resized[y][x])));
            }
        }
        if (borderMean(pixels, size) > 127) {
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = (byte) (255 - (pixels[i] & 0xFF));
            }
        }
        return pixels;
    }

    /**
     * The image, decoded only after its header's width x height was checked against {@link #maxPixels()}; every
     * failure of the decoder (which throws unchecked exceptions on some corrupt files) is a {@link DataException}.
     */
    private static BufferedImage decode(Path file) {
        String format = "image";
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new DataException(file + ": not an image that javax.imageio can read (PNG, JPEG, GIF, BMP were "
                        + "expected)");
            }
            ImageReader reader = readers.next();
            try {
                format = reader.getFormatName().toUpperCase(Locale.ROOT) + " image";
                reader.setInput(in, true, true);
                long width = reader.getWidth(0);
                long height = reader.getHeight(0);
                long limit = maxPixels();
                if (width < 1 || height < 1 || width * height > limit) {
                    throw new DataException(file + ": the " + format + " declares " + width + " x " + height + " = "
                            + width * height + " pixels, but 1 to " + limit + " were expected (raise -Xmx or set "
                            + "-D" + MAX_PIXELS + ")");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (DataException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new DataException(file + ": the " + format + " cannot be decoded: " + reason(e), e);
        }
    }

    /**
     * Pixels of one image: the system property {@value #MAX_PIXELS}, default max heap / 32 (decoding and
     * converting take up to 16 bytes per pixel), at most 100 million.
     */
    static long maxPixels() {
        String value = System.getProperty(MAX_PIXELS);
        if (value != null && !value.isBlank()) {
            try {
                return Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                throw new DataException("system property " + MAX_PIXELS + " is '" + value + "' but a whole number of "
                        + "pixels was expected");
            }
        }
        return Math.min(100_000_000L, Runtime.getRuntime().maxMemory() / 32);
    }

    /** The innermost message of a decoder's exception chain ("Caught exception during read:" says nothing). */
    private static String reason(Throwable e) {
        Throwable inner = e;
        while (inner.getCause() != null && inner.getCause() != inner) {
            inner = inner.getCause();
        }
        String message = inner.getMessage();
        String what = inner instanceof EOFException && message == null ? "the file ends early"
                : message == null || message.isBlank() ? inner.getClass().getSimpleName()
                : inner instanceof IOException ? message : inner.getClass().getSimpleName() + ": " + message;
        return "corrupt image data (" + what + ")";
    }

    /** Grey levels 0..255 per pixel [y][x]; 8-bit one-band images are read as stored (no colour conversion). */
    private static double[][] grey(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        double[][] grey = new double[h][w];
        Raster raster = image.getRaster();
        boolean oneBand = raster.getNumBands() == 1 && raster.getSampleModel().getSampleSize(0) == 8;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (oneBand) {
                    grey[y][x] = raster.getSample(x, y, 0);
                } else {
                    int argb = image.getRGB(x, y);
                    double alpha = (argb >>> 24) / 255.0;
                    double luma = ((argb >> 16) & 0xFF) * 0.299 + ((argb >> 8) & 0xFF) * 0.587 + (argb & 0xFF) * 0.114;
                    grey[y][x] = alpha * luma + (1 - alpha) * 255;
                }
            }
        }
        return grey;
    }

    /** Area averaging: each target pixel is the mean of the source area it covers (partial pixels weighted). */
    private static double[][] resize(double[][] source, int size) {
        int h = source.length;
        int w = source[0].length;
        double[][] out = new double[size][size];
        for (int ty = 0; ty < size; ty++) {
            double y0 = (double) ty * h / size;
            double y1 = (double) (ty + 1) * h / size;
            for (int tx = 0; tx < size; tx++) {
                double x0 = (double) tx * w / size;
                double x1 = (double) (tx + 1) * w / size;
                double sum = 0;
                double area = 0;
                for (int sy = (int) y0; sy < Math.ceil(y1); sy++) {
                    double wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
                    for (int sx = (int) x0; sx < Math.ceil(x1); sx++) {
                        double wx = Math.min(x1, sx + 1) - Math.max(x0, sx);
                        sum += wy * wx * source[sy][sx];
                        area += wy * wx;
                    }
                }
                out[ty][tx] = sum / area;
            }
        }
        return out;
    }

    private static double borderMean(byte[] pixels, int size) {
        long sum = 0;
        int count = 0;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                if (y == 0 || x == 0 || y == size - 1 || x == size - 1) {
                    sum += pixels[y * size + x] & 0xFF;
                    count++;
                }
            }
        }
        return (double) sum / count;
    }
}
