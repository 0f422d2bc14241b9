package io.torchlstm4j.mnist;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Image files as MNIST-like input: greyscale (ITU-R 601 luma, as PIL's {@code convert("L")}; transparency composed
 * over white), resized to size x size by area averaging, and inverted when the border is light (MNIST digits are
 * light on a black background). An 8-bit greyscale image of size x size keeps its pixel values exactly.
 */
final class ImageInput {

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
        BufferedImage source = ImageIO.read(file.toFile());
        if (source == null) {
            throw new DataException(file + ": not an image that javax.imageio can read (PNG, JPEG, GIF, BMP were "
                    + "expected)");
        }
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
